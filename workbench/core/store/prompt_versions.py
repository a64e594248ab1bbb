"""Prompt template versions: each edit a new version with its diff to the parent."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from workbench.core.store.connection import StoreConnection, StoreError, _now


@dataclass(frozen=True)
class PromptVersion:
    id: int
    name: str
    parent_id: int | None
    body: str
    diff: str  # unified diff from the parent ("" for a first version)
    created_at: str


def unified_diff(old: str, new: str, old_name: str = "previous", new_name: str = "new") -> str:
    """The edit from one template body to another, as the unified diff a version stores."""
    return "".join(
        difflib.unified_diff(
            old.splitlines(keepends=True), new.splitlines(keepends=True), fromfile=old_name, tofile=new_name
        )
    )


class PromptVersionsMixin(StoreConnection):
    def save_prompt_version(self, name: str, body: str, parent_id: int | None = None) -> int:
        """Store an edit as a new version with its diff to the parent; an unchanged body is not a new version."""
        parent = self.prompt_version(parent_id) if parent_id is not None else None
        if parent is not None and parent.body == body:
            return parent.id
        old_name = f"{parent.name} {self.version_label(parent.id)}" if parent else ""
        diff = unified_diff(parent.body, body, old_name, f"{name} (new)") if parent else ""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO prompt_versions (name, parent_id, body, diff, created_at) VALUES (?, ?, ?, ?, ?)",
                (name, parent_id, body, diff, _now()),
            )
            return int(cur.lastrowid or 0)

    def version_for(self, name: str, body: str) -> int:
        """The version of template ``name`` with this body: an existing one, or a new child of the latest."""
        versions = self.prompt_versions(name)
        for version in reversed(versions):
            if version.body == body:
                return version.id
        return self.save_prompt_version(name, body, versions[-1].id if versions else None)

    def prompt_version(self, version_id: int) -> PromptVersion:
        row = self.db.execute(
            "SELECT id, name, parent_id, body, diff, created_at FROM prompt_versions WHERE id = ?", (version_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no prompt version {version_id}")
        return PromptVersion(*row)

    def prompt_versions(self, name: str | None = None) -> list[PromptVersion]:
        sql = "SELECT id, name, parent_id, body, diff, created_at FROM prompt_versions"
        rows = self.db.execute(
            sql + (" WHERE name = ? ORDER BY id" if name else " ORDER BY id"), (name,) if name else ()
        )
        return [PromptVersion(*r) for r in rows]

    def version_label(self, version_id: int) -> str:
        """ "vN": the version's rank by id among its template's versions (ids stay global; labels are per template)."""
        name = self.prompt_version(version_id).name
        row = self.db.execute(
            "SELECT count(*) FROM prompt_versions WHERE name = ? AND id <= ?", (name, version_id)
        ).fetchone()
        return f"v{int(row[0])}"

    def version_labels(self) -> dict[int, str]:
        """Every version id's "vN" label (as ``version_label``), read at once for a list of versions."""
        seen: dict[str, int] = {}
        labels = {}
        for version in self.prompt_versions():  # by id
            seen[version.name] = seen.get(version.name, 0) + 1
            labels[version.id] = f"v{seen[version.name]}"
        return labels
