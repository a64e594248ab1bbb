"""Requests and their responses: the cache by which a request answered once is never sent again.

A request row is written together with its response in one transaction, so the store never holds
a request that was sent and not resolved.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from workbench.core.secrets import mask_optional
from workbench.core.store.connection import StoreConnection, _now


class ResponseCacheMixin(StoreConnection):
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
