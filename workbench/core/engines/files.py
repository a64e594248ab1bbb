"""What file-based engines (SQLite, DuckDB) share: the content digest that says whether a database file changed."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from workbench.core.engines.base import DatabaseRef

_DIGESTS: dict[tuple[Any, ...], str] = {}


def content_digest(path: Path) -> str:
    """BLAKE2b (20 bytes, hex) of the file's bytes (about 1 GB/s)."""
    import hashlib  # OpenSSL's library loads when a digest is first needed, not on opening a dataset

    with open(path, "rb") as f:
        return hashlib.file_digest(f, lambda: hashlib.blake2b(digest_size=20)).hexdigest()


def file_identity(ref: DatabaseRef) -> str | None:
    """The database file's content digest, remembered per path, inode, size, mtime and ctime, so an unchanged
    file is hashed once per process and any write makes it hashed again; None if it cannot be read."""
    path = ref.path
    try:
        st = os.stat(path)
        key = (str(path.resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
        if key not in _DIGESTS:
            _DIGESTS[key] = content_digest(path)
    except OSError:
        return None
    return _DIGESTS[key]
