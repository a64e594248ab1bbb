"""The store's schema as numbered migrations: each runs with its ledger row in one transaction.

A step is never edited or renumbered once released (old stores must open); a schema change is a
new step at the end of ``MIGRATIONS``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable


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


def _m8_run_questions(db: sqlite3.Connection) -> None:
    """The question file a run on your own data was started with (a database file's runs need it to reopen)."""
    db.execute("ALTER TABLE runs ADD COLUMN questions TEXT")


def _m9_score_test_suite_match(db: sqlite3.Connection) -> None:
    """Each score's test-suite verdict (right on every database of the suite; NULL where there is none)."""
    db.execute("ALTER TABLE scores ADD COLUMN ts_match INTEGER")


def _m10_gold_disputes(db: sqlite3.Connection) -> None:
    """Gold disputes: an item's gold marked wrong or its question ambiguous, or a prediction marked also correct.

    Kept per dataset and split (never written into the dataset); ``predicted_sql`` is '' except for
    "also correct", which is said of one prediction's text (``said_of`` names the run:variant it came from).
    """
    _script(
        db,
        """
        CREATE TABLE gold_disputes (
            dataset_id INTEGER NOT NULL REFERENCES datasets(id), split TEXT NOT NULL, item_index INTEGER NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('gold_wrong', 'ambiguous', 'also_correct')),
            predicted_sql TEXT NOT NULL DEFAULT '', said_of TEXT NOT NULL DEFAULT '', note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL, PRIMARY KEY (dataset_id, split, item_index, kind, predicted_sql));
    """,
    )


def _m11_score_soft_f1(db: sqlite3.Connection) -> None:
    """BIRD's Soft-F1 of each scored answer (NULL where it is not computed: datasets other than BIRD)."""
    db.execute("ALTER TABLE scores ADD COLUMN soft_f1 REAL")


def _m12_score_figures_index(db: sqlite3.Connection) -> None:
    """What the run list sums per run and variant (``Store.arm_figures``), read from an index instead of the rows:
    a sixth of the bytes (the rows carry the predicted SQL and the reasons)."""
    db.execute("CREATE INDEX scores_figures ON scores(run_id, variant_id, status, exec_match, cost)")


def _m13_arm_outcomes(db: sqlite3.Connection) -> None:
    """What was read of a finished run's variant (``store/outcomes.py``), kept until any of its rows changes: the
    triggers delete the kept row at every insert, update or delete of the variant's rows in the run."""
    db.execute(
        "CREATE TABLE arm_outcomes (run_id INTEGER NOT NULL, variant_id INTEGER NOT NULL, levels TEXT NOT NULL, "
        "items BLOB NOT NULL, codes BLOB NOT NULL, fresh_ms BLOB NOT NULL, cached_ms BLOB NOT NULL, "
        "cost REAL NOT NULL, prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, "
        "soft_f1_total REAL NOT NULL, soft_f1_n INTEGER NOT NULL, PRIMARY KEY (run_id, variant_id))"
    )
    outdate = "DELETE FROM arm_outcomes WHERE run_id = {0}.run_id AND variant_id = {0}.variant_id;"
    for event, rows in (("INSERT", ("NEW",)), ("UPDATE", ("OLD", "NEW")), ("DELETE", ("OLD",))):
        body = " ".join(outdate.format(row) for row in rows)
        db.execute(f"CREATE TRIGGER scores_{event.lower()}_outdates AFTER {event} ON scores BEGIN {body} END")


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [
    _m1_initial,
    _m2_cache_index_and_cost,
    _m3_run_specs,
    _m4_finetune_jobs,
    _m5_batches,
    _m6_run_owner,
    _m7_request_sends,
    _m8_run_questions,
    _m9_score_test_suite_match,
    _m10_gold_disputes,
    _m11_score_soft_f1,
    _m12_score_figures_index,
    _m13_arm_outcomes,
]

OWNER_MIGRATION = 6  # from this schema on, runs record their owner process
QUESTIONS_MIGRATION = 8  # from this schema on, runs record their question file
SOFT_F1_MIGRATION = MIGRATIONS.index(_m11_score_soft_f1) + 1  # from this schema on, scores record Soft-F1
KEPT_OUTCOMES_MIGRATION = MIGRATIONS.index(_m13_arm_outcomes) + 1  # from this schema on, finished runs' reads are kept
