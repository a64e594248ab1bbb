"""Vectors from any endpoint's ``/v1/embeddings`` (OpenAI, vLLM, llama.cpp), cached on disk.

Vectors are cached keyed by (model, text), so a training split is embedded once per model.
``Embedder`` is synchronous (retrievers are); it runs its HTTP calls on a private event loop
in a worker thread, so it can be called from inside a running one. Its SDK and its retries
are the endpoint layer's (``connection``): one HTTP request per attempt, the profile's
``max_attempts``, the same backoff as chat requests.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import sqlite3
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_cache_dir

from workbench.core import secrets
from workbench.core.endpoints.connection import AttemptsExhausted, call_with_retries, open_sdk
from workbench.core.endpoints.profiles import EndpointProfile

if TYPE_CHECKING:
    import numpy as np

BATCH = 64


def default_cache_path() -> Path:
    return Path(user_cache_dir("workbench")) / "embeddings.sqlite"


class EmbeddingCache:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or default_cache_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self.db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS vectors (model TEXT, text_hash TEXT, vector BLOB, "
            "PRIMARY KEY (model, text_hash))"
        )

    @staticmethod
    def _hash(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        import numpy as np  # ~0.1 s: not imported at start-up

        found: dict[str, np.ndarray] = {}
        with self._lock:
            for text in dict.fromkeys(texts):
                row = self.db.execute(
                    "SELECT vector FROM vectors WHERE model = ? AND text_hash = ?", (model, self._hash(text))
                ).fetchone()
                if row is not None:
                    found[text] = np.frombuffer(row[0], dtype=np.float32)
        return found

    def put(self, model: str, vectors: dict[str, np.ndarray]) -> None:
        import numpy as np  # ~0.1 s: not imported at start-up

        with self._lock:
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                [(model, self._hash(t), v.astype(np.float32).tobytes()) for t, v in vectors.items()],
            )
            self.db.execute("COMMIT")


class EmbeddingError(RuntimeError):
    """The embeddings endpoint refused or failed; the message says why (keys masked)."""


class Embedder:
    """texts -> unit vectors, through an endpoint profile, with the disk cache in front."""

    def __init__(self, profile: EndpointProfile, cache: EmbeddingCache | None = None) -> None:
        self.profile = profile
        self.cache = cache or EmbeddingCache()
        self.requests = 0
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder")

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np  # ~0.1 s: not imported at start-up

        known = self.cache.get(self.profile.model, texts)
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = self._worker.submit(asyncio.run, self._fetch(missing)).result()
            self.cache.put(self.profile.model, fresh)
            known.update(fresh)
        matrix = np.stack([known[t] for t in texts]) if texts else np.zeros((0, 1), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1, norms)

    async def _fetch(self, texts: list[str]) -> dict[str, np.ndarray]:
        import httpx
        import numpy as np  # ~0.1 s: not imported at start-up

        sdk = open_sdk(self.profile)
        rng = random.Random()
        out: dict[str, np.ndarray] = {}
        try:
            for start in range(0, len(texts), BATCH):
                batch = texts[start : start + BATCH]
                body = {"model": self.profile.model, "input": batch}

                async def send(_: int, body: dict[str, object] = body) -> httpx.Response:
                    return await sdk.post("/embeddings", cast_to=httpx.Response, body=body)

                try:
                    response = await call_with_retries(send, self.profile.max_attempts, self.profile.timeout_s, rng)
                except AttemptsExhausted as exc:  # its message may echo the key: mask it, drop the SDK's chain
                    raise EmbeddingError(
                        secrets.mask(f"embeddings at {self.profile.base_url}: {exc.failure.error}")
                    ) from None
                self.requests += 1
                data = sorted(response.json()["data"], key=lambda d: d["index"])
                for text, entry in zip(batch, data, strict=True):
                    out[text] = np.asarray(entry["embedding"], dtype=np.float32)
        finally:
            await sdk.close()
        return out
