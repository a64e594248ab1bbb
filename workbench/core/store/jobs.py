"""Work handed to a remote API that a restart reattaches to: Batch API submissions and fine-tuning jobs."""

from __future__ import annotations

import json
from typing import Any

from workbench.core.secrets import mask
from workbench.core.store.connection import StoreConnection, StoreError, _now


class BatchesMixin(StoreConnection):
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


class FinetuneJobsMixin(StoreConnection):
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
