"""The run store: one SQLite file (WAL) per workspace.

It is also the response cache: a request whose hash has a successful response is never
sent again, by this run or any later one. A request row is written together with its
response in one transaction, so the store never holds a request that was sent and not
resolved; a crash loses at most the answers that were in flight.

Migrations are numbered functions; each runs with its ledger row in one transaction.
Every error, reason and event message is masked (``secrets.mask``) as it is written: no
key reaches the file, whatever a server echoed.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_data_dir

from workbench.core.data.inputs import sqlite_problem
from workbench.core.sandbox import lifeline
from workbench.core.secrets import mask, mask_optional


def default_store_path() -> Path:
    return Path(user_data_dir("workbench")) / "workspace.sqlite"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())


def _script(db: sqlite3.Connection, sql: str) -> None:
    """Run ;-separated DDL inside the caller's transaction (executescript would commit it)."""
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def _m1_initial(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE TABLE datasets (
            id INTEGER PRIMARY KEY, root TEXT NOT NULL UNIQUE, name TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE TABLE prompt_versions (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL, parent_id INTEGER REFERENCES prompt_versions(id),
            body TEXT NOT NULL, diff TEXT NOT NULL DEFAULT '', created_at TEXT NOT NULL);
        CREATE TABLE variants (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL, endpoint TEXT NOT NULL, model TEXT NOT NULL,
            prompt_version_id INTEGER REFERENCES prompt_versions(id), retrieval TEXT NOT NULL DEFAULT 'none',
            params TEXT NOT NULL DEFAULT '{}', fingerprint TEXT NOT NULL UNIQUE);
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, dataset_id INTEGER NOT NULL REFERENCES datasets(id),
            split TEXT NOT NULL, item_limit INTEGER, state TEXT NOT NULL, created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL);
        CREATE TABLE run_variants (
            run_id INTEGER NOT NULL REFERENCES runs(id), variant_id INTEGER NOT NULL REFERENCES variants(id),
            position INTEGER NOT NULL, PRIMARY KEY (run_id, variant_id));
        CREATE TABLE requests (
            hash TEXT PRIMARY KEY, endpoint TEXT NOT NULL, model TEXT NOT NULL, messages TEXT NOT NULL,
            params TEXT NOT NULL, created_at TEXT NOT NULL);
        CREATE TABLE responses (
            id INTEGER PRIMARY KEY, request_hash TEXT NOT NULL REFERENCES requests(hash), ok INTEGER NOT NULL,
            text TEXT, prompt_tokens INTEGER, completion_tokens INTEGER, latency_ms REAL, attempts INTEGER,
            error TEXT, created_at TEXT NOT NULL);
        CREATE TABLE scores (
            run_id INTEGER NOT NULL REFERENCES runs(id), variant_id INTEGER NOT NULL REFERENCES variants(id),
            item_index INTEGER NOT NULL, db_id TEXT NOT NULL, hardness TEXT, request_hash TEXT,
            predicted_sql TEXT, exec_match INTEGER, exact_match INTEGER, status TEXT NOT NULL, reason TEXT NOT NULL,
            created_at TEXT NOT NULL, PRIMARY KEY (run_id, variant_id, item_index));
    """,
    )


def _m2_cache_index_and_cost(db: sqlite3.Connection) -> None:
    _script(
        db,
        """
        CREATE INDEX responses_ok_by_request ON responses(request_hash) WHERE ok = 1;
        ALTER TABLE scores ADD COLUMN cost REAL NOT NULL DEFAULT 0;
        ALTER TABLE scores ADD COLUMN cached INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE scores ADD COLUMN latency_ms REAL;
        ALTER TABLE scores ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE scores ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0;
    """,
    )


def _m3_run_specs(db: sqlite3.Connection) -> None:
    """What each run's variants were made of (profile, template version, retrieval), to resume it later."""
    _script(db, "CREATE TABLE run_specs (run_id INTEGER PRIMARY KEY REFERENCES runs(id), specs TEXT NOT NULL);")


def _m4_finetune_jobs(db: sqlite3.Connection) -> None:
    """Fine-tuning jobs and their events, kept so a job is reattached after the app restarts."""
    _script(
        db,
        """
        CREATE TABLE finetune_jobs (
            id TEXT PRIMARY KEY, profile TEXT NOT NULL, base_model TEXT NOT NULL, status TEXT NOT NULL,
            fine_tuned_model TEXT, registered_profile TEXT, error TEXT, spec TEXT NOT NULL,
            created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE finetune_events (
            job_id TEXT NOT NULL REFERENCES finetune_jobs(id), event_id TEXT NOT NULL, created_at INTEGER NOT NULL,
            level TEXT NOT NULL, message TEXT NOT NULL, data TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (job_id, event_id));
    """,
    )


def _m5_batches(db: sqlite3.Connection) -> None:
    """Batch API submissions of a run and the requests in each, so a restart reattaches instead of resending."""
    _script(
        db,
        """
        CREATE TABLE batches (
            id TEXT PRIMARY KEY, run_id INTEGER NOT NULL REFERENCES runs(id), profile TEXT NOT NULL,
            status TEXT NOT NULL, input_file TEXT NOT NULL, requests INTEGER NOT NULL,
            ingested INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
        CREATE TABLE batch_requests (
            batch_id TEXT NOT NULL REFERENCES batches(id), request_hash TEXT NOT NULL,
            PRIMARY KEY (batch_id, request_hash));
    """,
    )


def _m6_run_owner(db: sqlite3.Connection) -> None:
    """The process that runs a run (``lifeline.identity()``), so a dead one is told from a live one."""
    db.execute("ALTER TABLE runs ADD COLUMN owner TEXT")


def _m7_request_sends(db: sqlite3.Connection) -> None:
    """When each attempt was sent and answered, per rate window, so a restart resumes its RPM/TPM windows."""
    _script(
        db,
        """
        CREATE TABLE request_sends (
            id INTEGER PRIMARY KEY, window_key TEXT NOT NULL, owner TEXT NOT NULL, sent_at REAL NOT NULL,
            deadline REAL NOT NULL, finished_at REAL, tokens INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX request_sends_by_window ON request_sends(window_key, sent_at);
    """,
    )


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m1_initial,
    _m2_cache_index_and_cost,
    _m3_run_specs,
    _m4_finetune_jobs,
    _m5_batches,
    _m6_run_owner,
    _m7_request_sends,
]

OWNER_MIGRATION = 6  # from this schema on, runs record their owner process
# States in which a run has a process working on it; when that process is gone it reads as "interrupted".
LIVE_STATES = ("running", "batch", "paused")


class StoreError(RuntimeError):
    pass


@dataclass(frozen=True)
class PromptVersion:
    id: int
    name: str
    parent_id: int | None
    body: str
    diff: str  # unified diff from the parent ("" for a first version)
    created_at: str


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


@dataclass(frozen=True, kw_only=True)
class ScoreRow:
    """One variant's outcome on one question: what the store writes and reads, and what the run's events carry."""

    variant_id: int
    item_index: int
    db_id: str
    status: str  # "scored" | "unscorable" (``Verdict.status``) | "failed" (no answer to score)
    reason: str
    hardness: str | None = None
    exec_match: bool | None = None
    exact_match: bool | None = None
    predicted_sql: str | None = None
    request_hash: str | None = None
    cost: float = 0.0
    cached: bool = False
    latency_ms: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0


class Store:
    def __init__(self, path: str | Path, migrations: list[Callable[[sqlite3.Connection], None]] | None = None) -> None:
        self.path = Path(path)
        problem = sqlite_problem(self.path)
        if problem not in ("", "missing", "empty file"):  # a new or empty file becomes a store
            raise StoreError(f"{self.path}: not a run store ({problem})")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self.migrate(MIGRATIONS if migrations is None else migrations)
        except (OSError, sqlite3.DatabaseError) as exc:
            if hasattr(self, "db"):
                self.db.close()
            raise StoreError(f"{self.path}: cannot open the run store ({exc})") from None
        self._has_owner = self.version >= OWNER_MIGRATION

    def close(self) -> None:
        self.db.close()

    # --- schema -------------------------------------------------------------
    @property
    def version(self) -> int:
        self.db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT)")
        row = self.db.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def migrate(self, migrations: list[Callable[[sqlite3.Connection], None]]) -> None:
        current = self.version
        if current > len(migrations):
            raise StoreError(
                f"{self.path}: written by a newer workbench (schema {current}, this one knows {len(migrations)})"
            )
        for number, step in enumerate(migrations[current:], start=current + 1):
            with self.transaction():
                step(self.db)
                self.db.execute("INSERT INTO schema_migrations VALUES (?, ?)", (number, _now()))

    def transaction(self) -> Any:
        store = self

        class _Tx:
            def __enter__(self) -> sqlite3.Connection:
                store.db.execute("BEGIN IMMEDIATE")
                return store.db

            def __exit__(self, exc_type: object, *rest: object) -> None:
                store.db.execute("ROLLBACK" if exc_type else "COMMIT")

        return _Tx()

    # --- datasets, variants, runs ---------------------------------------------
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

    def variant_models(self, run_id: int) -> dict[int, str]:
        """The model behind each variant of a run."""
        return {i: model for i, _, model in self.run_variants(run_id)}

    def create_run(self, name: str, dataset_id: int, split: str, limit: int | None, variant_ids: list[int]) -> int:
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
            db.executemany(
                "INSERT INTO run_variants VALUES (?, ?, ?)", [(run_id, v, k) for k, v in enumerate(variant_ids)]
            )
            return run_id

    def run(self, name_or_id: str | int) -> RunInfo:
        column = "r.id" if isinstance(name_or_id, int) or str(name_or_id).isdigit() else "r.name"
        row = self.db.execute(
            "SELECT r.id, r.name, d.root, r.split, r.item_limit, r.state, r.created_at, r.updated_at, "
            f"{'r.owner' if self._has_owner else 'NULL'} "
            f"FROM runs AS r JOIN datasets AS d ON r.dataset_id = d.id WHERE {column} = ?",
            (name_or_id,),
        ).fetchone()
        if row is None:
            raise StoreError(f"no run {name_or_id!r} in {self.path}")
        info = RunInfo(*row)
        if info.state in LIVE_STATES and not lifeline.alive(info.owner):
            return dataclasses.replace(info, state="interrupted")  # its process died without saying so
        return info

    def runs(self) -> list[RunInfo]:
        return [self.run(int(r[0])) for r in self.db.execute("SELECT id FROM runs ORDER BY id")]

    def save_run_specs(self, run_id: int, specs: list[dict[str, Any]]) -> None:
        with self.transaction() as db:
            db.execute("INSERT OR REPLACE INTO run_specs VALUES (?, ?)", (run_id, json.dumps(specs)))

    def run_specs(self, run_id: int) -> list[dict[str, Any]] | None:
        row = self.db.execute("SELECT specs FROM run_specs WHERE run_id = ?", (run_id,)).fetchone()
        return None if row is None else list(json.loads(row[0]))

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

    # --- batches -------------------------------------------------------------------
    def save_batch(
        self, batch_id: str, run_id: int, profile: str, status: str, input_file: str, hashes: list[str]
    ) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO batches (id, run_id, profile, status, input_file, requests, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (batch_id, run_id, profile, status, input_file, len(hashes), _now(), _now()),
            )
            db.executemany("INSERT OR IGNORE INTO batch_requests VALUES (?, ?)", [(batch_id, h) for h in hashes])

    def set_batch(self, batch_id: str, status: str, ingested: bool = False) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE batches SET status = ?, ingested = max(ingested, ?), updated_at = ? WHERE id = ?",
                (status, int(ingested), _now(), batch_id),
            )

    def batches(self, run_id: int) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, profile, status, input_file, requests, ingested, created_at FROM batches WHERE run_id = ? "
            "ORDER BY created_at, rowid",
            (run_id,),
        )
        keys = ("id", "profile", "status", "input_file", "requests", "ingested", "created_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def batch_hashes(self, batch_id: str) -> list[str]:
        rows = self.db.execute("SELECT request_hash FROM batch_requests WHERE batch_id = ?", (batch_id,))
        return [str(r[0]) for r in rows]

    # --- fine-tuning jobs --------------------------------------------------------
    def save_job(self, job_id: str, profile: str, base_model: str, status: str, spec: dict[str, Any]) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO finetune_jobs (id, profile, base_model, status, spec, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET status = excluded.status, "
                "updated_at = excluded.updated_at",
                (job_id, profile, base_model, status, json.dumps(spec), _now(), _now()),
            )

    def update_job(self, job_id: str, **fields: Any) -> None:
        allowed = {"status", "fine_tuned_model", "registered_profile", "error"}
        if set(fields) - allowed:
            raise ValueError(f"unknown job field(s): {', '.join(sorted(set(fields) - allowed))}")
        if fields.get("error") is not None:
            fields["error"] = mask(str(fields["error"]))
        assignments = ", ".join(f"{k} = ?" for k in fields)
        with self.transaction() as db:
            db.execute(
                f"UPDATE finetune_jobs SET {assignments}, updated_at = ? WHERE id = ?",
                (*fields.values(), _now(), job_id),
            )

    def jobs(self) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT id, profile, base_model, status, fine_tuned_model, registered_profile, error, spec, created_at, "
            "updated_at FROM finetune_jobs ORDER BY created_at, id"
        ).fetchall()
        keys = ("id", "profile", "base_model", "status", "fine_tuned_model", "registered_profile", "error", "spec",
                "created_at", "updated_at")  # fmt: skip
        return [dict(zip(keys, r, strict=True)) | {"spec": json.loads(r[7])} for r in rows]

    def job(self, job_id: str) -> dict[str, Any]:
        for job in self.jobs():
            if job["id"] == job_id:
                return job
        raise StoreError(f"no fine-tuning job {job_id!r} in {self.path}")

    def save_job_events(self, job_id: str, events: list[dict[str, Any]]) -> int:
        """Store events not seen before; returns how many were new."""
        with self.transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT OR IGNORE INTO finetune_events VALUES (?, ?, ?, ?, ?, ?)",
                [(job_id, e["id"], int(e.get("created_at") or 0), str(e.get("level", "info")),
                  mask(str(e.get("message", ""))), mask(json.dumps(e.get("data") or {}))) for e in events],
            )  # fmt: skip
            return db.total_changes - before

    def job_events(self, job_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT event_id, created_at, level, message, data FROM finetune_events WHERE job_id = ? "
            "ORDER BY created_at, rowid",
            (job_id,),
        )
        return [
            {"id": r[0], "created_at": r[1], "level": r[2], "message": r[3], "data": json.loads(r[4])} for r in rows
        ]

    # --- prompt versions ---------------------------------------------------------
    def save_prompt_version(self, name: str, body: str, parent_id: int | None = None) -> int:
        """Store an edit as a new version with its diff to the parent; an unchanged body is not a new version."""
        from workbench.core.prompts.templates import unified_diff

        parent = self.prompt_version(parent_id) if parent_id is not None else None
        if parent is not None and parent.body == body:
            return parent.id
        diff = unified_diff(parent.body, body, f"{parent.name} v{parent.id}", f"{name} (new)") if parent else ""
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

    # --- requests and the response cache ----------------------------------------
    def cached_response(self, request_hash: str) -> sqlite3.Row | tuple[Any, ...] | None:
        return self.db.execute(
            "SELECT text, prompt_tokens, completion_tokens, latency_ms FROM responses "
            "WHERE request_hash = ? AND ok = 1 ORDER BY id DESC LIMIT 1",
            (request_hash,),
        ).fetchone()

    def save_response(
        self,
        request_hash: str,
        endpoint: str,
        model: str,
        messages: Any,
        params: dict[str, Any],
        ok: bool,
        text: str | None,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        latency_ms: float | None = None,
        attempts: int = 0,
        error: str | None = None,
    ) -> None:
        error = mask_optional(error)
        with self.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO requests (hash, endpoint, model, messages, params, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (
                    request_hash,
                    endpoint,
                    model,
                    json.dumps(messages, ensure_ascii=False),
                    json.dumps(params, sort_keys=True),
                    _now(),
                ),
            )
            db.execute(
                "INSERT INTO responses (request_hash, ok, text, prompt_tokens, completion_tokens, latency_ms, "
                "attempts, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (request_hash, int(ok), text, prompt_tokens, completion_tokens, latency_ms, attempts, error, _now()),
            )

    # --- scores -----------------------------------------------------------------
    def save_score(self, run_id: int, row: ScoreRow) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO scores (run_id, variant_id, item_index, db_id, hardness, request_hash, "
                "predicted_sql, exec_match, exact_match, status, reason, created_at, cost, cached, latency_ms, "
                "prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    row.variant_id,
                    row.item_index,
                    row.db_id,
                    row.hardness,
                    row.request_hash,
                    row.predicted_sql,
                    _opt_int(row.exec_match),
                    _opt_int(row.exact_match),
                    row.status,
                    mask(row.reason),
                    _now(),
                    row.cost,
                    int(row.cached),
                    row.latency_ms,
                    row.prompt_tokens,
                    row.completion_tokens,
                ),
            )

    def done_items(self, run_id: int) -> set[tuple[int, int]]:
        """(variant_id, item_index) pairs that need no more work: scored or unscorable."""
        rows = self.db.execute(
            "SELECT variant_id, item_index FROM scores WHERE run_id = ? AND status != 'failed'", (run_id,)
        )
        return {(int(v), int(i)) for v, i in rows}

    def scores(self, run_id: int) -> Iterator[ScoreRow]:
        cur = self.db.execute(
            "SELECT variant_id, item_index, db_id, hardness, exec_match, exact_match, status, reason, predicted_sql, "
            "request_hash, cost, cached, latency_ms, prompt_tokens, completion_tokens FROM scores WHERE run_id = ? "
            "ORDER BY variant_id, item_index",
            (run_id,),
        )
        for r in cur:
            yield ScoreRow(
                variant_id=int(r[0]),
                item_index=int(r[1]),
                db_id=r[2],
                hardness=r[3],
                exec_match=_opt_bool(r[4]),
                exact_match=_opt_bool(r[5]),
                status=r[6],
                reason=r[7],
                predicted_sql=r[8],
                request_hash=r[9],
                cost=float(r[10]),
                cached=bool(r[11]),
                latency_ms=r[12],
                prompt_tokens=int(r[13]),
                completion_tokens=int(r[14]),
            )


def _opt_int(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _opt_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)
