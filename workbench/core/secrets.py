"""Keys never leave memory: ``mask`` hides API keys in any text before it is stored, shown or raised.

It hides the keys this process uses (each ``remember``-ed when it is resolved) wherever
they appear, and anything that looks like a key: ``sk-``/``sk-proj-``… followed by 20 or
more key characters, and ``Bearer <token>`` (16+ characters). What remains is a prefix and the last four
characters (``sk-…4f60``), enough to tell keys apart and nothing to use. The patterns have
no nested repetition, so masking is linear in the text's length whatever it holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ELLIPSIS = "…"
MIN_KNOWN = 8  # shorter "keys" (placeholders such as "x") are not worth hiding and would mangle text
_KNOWN: set[str] = set()
_KEY_CHARS = "A-Za-z0-9_-"
# "sk-" then an optional word prefix ("proj-", "ant-api03-", "live-"...), then the body
_SK = re.compile(rf"(?<![{_KEY_CHARS}])(sk-(?:[a-z]+\d*-){{0,2}})([{_KEY_CHARS}]{{20,}})")
_BEARER = re.compile(r"(Bearer\s+)([A-Za-z0-9._~+/=-]{16,})", re.IGNORECASE)  # shorter: likely prose


def remember(key: str | None) -> None:
    """Mask ``key`` in everything ``mask`` sees from now on (a key this process sends)."""
    if key and len(key) >= MIN_KNOWN:
        _KNOWN.add(key)


def masked_key(key: str) -> str:
    """How one key is shown: its ``sk-…`` prefix if it has one, an ellipsis, its last four characters."""
    match = _SK.fullmatch(key)
    prefix = match.group(1) if match else ""
    return prefix + ELLIPSIS + (key[-4:] if len(key) >= 12 else "")


def mask(text: str, known: Iterable[str | None] = ()) -> str:
    """``text`` with every remembered key, every key in ``known`` and every key-like string masked."""
    if not text:
        return text
    for key in sorted({k for k in (*_KNOWN, *known) if k and len(k) >= MIN_KNOWN}, key=len, reverse=True):
        if key in text:
            text = text.replace(key, masked_key(key))
    text = _SK.sub(lambda m: m.group(1) + ELLIPSIS + m.group(2)[-4:], text)
    return _BEARER.sub(lambda m: m.group(1) + ELLIPSIS + m.group(2)[-4:], text)


def mask_optional(text: str | None, known: Iterable[str | None] = ()) -> str | None:
    return None if text is None else mask(text, known)
