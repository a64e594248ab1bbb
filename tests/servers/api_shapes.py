"""Shapes the test server's platform endpoints share: stored files, error bodies, listing pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aiohttp import web


@dataclass
class StoredFile:
    id: str
    filename: str
    purpose: str
    content: bytes
    created_at: int

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "object": "file", "bytes": len(self.content), "created_at": self.created_at,
                "filename": self.filename, "purpose": self.purpose, "status": "processed"}  # fmt: skip


def api_error(status: int, message: str, param: str | None = None, code: str | None = None) -> web.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}
    return web.json_response(body, status=status)


def listing_page(request: web.Request, objects: list[dict[str, Any]]) -> web.Response:
    """A page of ``objects`` newest first, after ``after``, filtered by ``metadata[key]=value``."""
    wanted = {k[len("metadata[") : -1]: v for k, v in request.query.items() if k.startswith("metadata[")}
    newest = [o for o in reversed(objects) if all((o.get("metadata") or {}).get(k) == v for k, v in wanted.items())]
    ids = [o["id"] for o in newest]
    after = request.query.get("after")
    if after in ids:
        newest = newest[ids.index(after) + 1 :]
    limit = int(request.query.get("limit", 20))
    return web.json_response({"object": "list", "data": newest[:limit], "has_more": len(newest) > limit})
