"""Datasets, variants and runs in the store: what a run is made of and which process owns it."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from workbench.core.sandbox import lifeline
from workbench.core.store.connection import StoreConnection, StoreError, _now

# States in which a run has a process working on it; when that process is gone it reads as "interrupted".
LIVE_STATES = ("running", "batch", "paused")


@dataclass(frozen=True)
class RunInfo:
    id: int
    name: str
    dataset_root: str
    split: str
    item_limit: int | None
    state: str  # as stored, except that a live state whose owner process is gone reads "interrupted"
    created_at: str
    updated_at: str
    owner: str | None = None  # lifeline.identity() of the process that last ran it
    questions: str | None = None  # the question file of a run on your own data (None: the dataset's own splits)


class RunsMixin(StoreConnection):
    def dataset_id(self, root: str, name: str) -> int:
        with self.transaction() as db:
            db.execute("INSERT OR IGNORE INTO datasets (root, name, created_at) VALUES (?, ?, ?)", (root, name, _now()))
            return int(db.execute("SELECT id FROM datasets WHERE root = ?", (root,)).fetchone()[0])

    def variant_id(
        self,
        name: str,
        endpoint: str,
        model: str,
        params: dict[str, Any],
        retrieval: str = "none",
        prompt_version_id: int | None = None,
    ) -> int:
        fingerprint = json.dumps([name, endpoint, model, params, retrieval, prompt_version_id], sort_keys=True)
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO variants (name, endpoint, model, prompt_version_id, retrieval, params, "
                "fingerprint) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (name, endpoint, model, prompt_version_id, retrieval, json.dumps(params, sort_keys=True), fingerprint),
            )
            return int(db.execute("SELECT id FROM variants WHERE fingerprint = ?", (fingerprint,)).fetchone()[0])

    def run_variants(self, run_id: int) -> list[tuple[int, str, str]]:
        """(variant id, name, model) for each variant of a run, in the run's order."""
        rows = self.db.execute(
            "SELECT v.id, v.name, v.model FROM run_variants AS rv JOIN variants AS v ON rv.variant_id = v.id "
            "WHERE rv.run_id = ? ORDER BY rv.position",
            (run_id,),
        )
        return [(int(i), str(n), str(m)) for i, n, m in rows]

    def variant_details(self, run_id: int) -> list[dict[str, Any]]:
        """Each variant of a run with what it was made of: endpoint, model, prompt version, retrieval, params."""
        rows = self.db.execute(
            "SELECT v.id, v.name, v.endpoint, v.model, v.prompt_version_id, v.retrieval, v.params "
            "FROM run_variants AS rv JOIN variants AS v ON rv.variant_id = v.id WHERE rv.run_id = ? "
            "ORDER BY rv.position",
            (run_id,),
        )
        keys = ("id", "name", "endpoint", "model", "prompt_version_id", "retrieval", "params")
        return [dict(zip(keys[:6], r[:6], strict=True)) | {"params": json.loads(r[6])} for r in rows]

    def variant_names(self, run_id: int) -> dict[int, str]:
        return {i: name for i, name, _ in self.run_variants(run_id)}

    def create_run(
        self,
        name: str,
        dataset_id: int,
        split: str,
        limit: int | None,
        variant_ids: list[int],
        questions: str | None = None,
    ) -> int:
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM runs WHERE name = ?", (name,)).fetchone():
                raise StoreError(f"a run named {name!r} already exists; pass --resume to continue it")
            cur = db.execute(
                "INSERT INTO runs (name, dataset_id, split, item_limit, state, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, 'running', ?, ?)",
                (name, dataset_id, split, limit, _now(), _now()),
            )
            run_id = int(cur.lastrowid or 0)
            self._claim(db, run_id)
            if questions is not None:
                if not self._has_questions:
                    raise StoreError(f"{self.path}: this run store is too old to record a question file")
                db.execute("UPDATE runs SET questions = ? WHERE id = ?", (questions, run_id))
            db.executemany(
                "INSERT INTO run_variants VALUES (?, ?, ?)", [(run_id, v, k) for k, v in enumerate(variant_ids)]
            )
            return run_id

    def run(self, name_or_id: str | int) -> RunInfo:
        column = "r.id" if isinstance(name_or_id, int) or str(name_or_id).isdigit() else "r.name"
        row = self.db.execute(f"{self._run_select()} WHERE {column} = ?", (name_or_id,)).fetchone()
        if row is None:
            raise StoreError(f"no run {name_or_id!r} in {self.path}")
        return _run_info(row)

    def runs(self) -> list[RunInfo]:
        """Every run, oldest first, read in one statement."""
        return [_run_info(row) for row in self.db.execute(f"{self._run_select()} ORDER BY r.id")]

    def _run_select(self) -> str:
        return (
            "SELECT r.id, r.name, d.root, r.split, r.item_limit, r.state, r.created_at, r.updated_at, "
            f"{'r.owner' if self._has_owner else 'NULL'}, {'r.questions' if self._has_questions else 'NULL'} "
            "FROM runs AS r JOIN datasets AS d ON r.dataset_id = d.id"
        )

    def runs_variant_details(self) -> dict[int, list[dict[str, Any]]]:
        """``variant_details`` of every run (run id -> its variants in order), read in one statement."""
        rows = self.db.execute(
            "SELECT rv.run_id, v.id, v.name, v.endpoint, v.model, v.prompt_version_id, v.retrieval, v.params "
            "FROM run_variants AS rv JOIN variants AS v ON rv.variant_id = v.id ORDER BY rv.run_id, rv.position"
        )
        keys = ("id", "name", "endpoint", "model", "prompt_version_id", "retrieval")
        out: dict[int, list[dict[str, Any]]] = {}
        for r in rows:
            out.setdefault(int(r[0]), []).append(dict(zip(keys, r[1:7], strict=True)) | {"params": json.loads(r[7])})
        return out

    def runs_specs(self) -> dict[int, list[dict[str, Any]]]:
        """``run_specs`` of every run that stored its specs, read in one statement."""
        return {int(i): list(json.loads(s)) for i, s in self.db.execute("SELECT run_id, specs FROM run_specs")}

    def save_run_specs(self, run_id: int, specs: list[dict[str, Any]]) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO run_specs VALUES (?, ?)", (run_id, json.dumps(specs)))

    def run_specs(self, run_id: int) -> list[dict[str, Any]] | None:
        row = self.db.execute("SELECT specs FROM run_specs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else list(json.loads(row[0]))

    def free_run_name(self, base: str) -> str:
        """``base``, or ``base-2``, ``base-3`` … whichever no run has yet."""
        taken = {r.name for r in self.runs()}
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}-{k}"
        return name

    def unfinished_runs(self) -> list[RunInfo]:
        """Runs that stopped before every answer was in (crashed, cancelled or paused), newest first."""
        ids = self.db.execute("SELECT id FROM runs WHERE state != 'completed' ORDER BY id DESC").fetchall()
        return [self.run(int(r[0])) for r in ids]

    def set_state(self, run_id: int, state: str) -> None:
        """Record a run's state; a live state also records this process as the run's owner."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET state = ?, updated_at = ? WHERE id = ?", (state, _now(), run_id))
            if state in LIVE_STATES:
                self._claim(db, run_id)

    def _claim(self, db: sqlite3.Connection, run_id: int) -> None:
        """Record this process as the run's owner (a store opened with fewer migrations has no such column)."""
        if self._has_owner:
            db.execute("UPDATE runs SET owner = ? WHERE id = ?", (lifeline.identity(), run_id))


def _run_info(row: tuple[Any, ...]) -> RunInfo:
    info = RunInfo(*row)
    if info.state in LIVE_STATES and not lifeline.alive(info.owner):
        return dataclasses.replace(info, state="interrupted")  # its process died without saying so
    return info
