"""One question of a dataset, and the error every dataset reader raises (shared by the layouts' readers)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.core.data import inputs

HARDNESS_LEVELS: tuple[str, ...] = ("easy", "medium", "hard", "extra")  # Spider's, computed from the gold SQL


class DatasetError(inputs.InputError):
    """The dataset is unusable as given; the message names the file and item."""


@dataclass(frozen=True)
class Item:
    index: int  # 0-based position in its split
    db_id: str
    question: str
    query: str
    source: str  # file the item came from
    evidence: str = ""
    hardness: str | None = None  # given by the question file; None: Spider's, computed from the gold SQL
    position: str = ""  # where in ``source`` ("item 3", "line 7"); empty: ``item {index}``

    @property
    def where(self) -> str:
        return f"{self.source}: {self.position or f'item {self.index}'}"
