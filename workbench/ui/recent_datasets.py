"""The datasets opened lately, of every kind: a Spider folder, or a database with its question file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 8
SETTINGS_KEY = "recent_datasets"


@dataclass(frozen=True)
class RecentDataset:
    root: str  # a Spider folder, a database file, or a folder holding one database
    questions: str | None = None  # the question file opened with a database

    @property
    def root_path(self) -> Path:
        return Path(self.root)

    @property
    def questions_path(self) -> Path | None:
        return Path(self.questions) if self.questions else None

    @property
    def label(self) -> str:
        return f"{self.root}  +  {Path(self.questions).name}" if self.questions else self.root


class RecentDatasets:
    """Newest first, at most :data:`MAX_RECENT`, kept in the window's settings file."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def entries(self) -> list[RecentDataset]:
        try:
            raw = json.loads(str(self.settings.value(SETTINGS_KEY, "[]")))
        except ValueError:
            return []  # a hand-edited settings file: start the list again
        if not isinstance(raw, list):
            return []
        return [
            RecentDataset(str(e["root"]), str(e["questions"]) if e.get("questions") else None)
            for e in raw
            if isinstance(e, dict) and isinstance(e.get("root"), str)
        ]

    def add(self, entry: RecentDataset) -> None:
        kept = [entry, *(e for e in self.entries() if e != entry)][:MAX_RECENT]
        self.settings.setValue(SETTINGS_KEY, json.dumps([{"root": e.root, "questions": e.questions} for e in kept]))
