"""What file-based engines share: the content digest that says whether a database file changed."""

from __future__ import annotations

import hashlib
from pathlib import Path


def content_digest(path: Path) -> str:
    """BLAKE2b (20 bytes, hex) of the file's bytes: the same digest the gold cache keeps for a SQLite file."""
    digest = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
