"""Bounds on rendering a prompt template: output size, a loop budget and a time limit.

A template is code from a file, so it is rendered like untrusted code. ``TemplateLimits``
says how much one render may spend; ``Budget`` (one per render, found with ``current()``)
spends it and checks the clock; a bound that is hit raises ``BoundExceeded``, which
``templates.py`` turns into a ``TemplateProblem`` naming the file, line and column. The
Jinja side (the environment and the hooks it compiles into templates) is in
``template_sandbox.py``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_OUTPUT_BYTES = 256_000  # per rendered prompt
DEFAULT_MAX_ITERATIONS = 100_000  # loop iterations and calls per render
DEFAULT_TIME_LIMIT_S = 2.0  # wall time per render
MAX_INT_BITS = 4096  # numbers a template computes
BUILT_FACTOR = 32  # all text a render writes or builds (macros, blocks, filter results): this many prompts
REMOVED_FILTERS = ("striptags", "urlize")  # regexes that are quadratic on crafted input
REMOVED_GLOBALS = ("lipsum",)  # generates as many paragraphs as it is asked for


@dataclass(frozen=True)
class TemplateLimits:
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    max_iterations: int = DEFAULT_MAX_ITERATIONS
    time_limit_s: float = DEFAULT_TIME_LIMIT_S


DEFAULT_LIMITS = TemplateLimits()


class BoundExceeded(Exception):
    """A render passed one of its bounds; ``token`` is text to look for on the line (the column)."""

    def __init__(self, message: str, token: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.token = token


def size_label(n: int) -> str:
    return f"{n / 1_000_000:g} MB" if n >= 10_000_000 else f"{n / 1000:g} kB"


class Budget:
    """What one render may still spend."""

    def __init__(self, limits: TemplateLimits) -> None:
        self.limits = limits
        self.deadline = time.monotonic() + limits.time_limit_s
        self.steps = 0
        self.built = 0

    def clock(self, token: str = "") -> None:
        if time.monotonic() > self.deadline:
            raise BoundExceeded(f"rendering took more than {self.limits.time_limit_s:g} s (time limit)", token)

    def step(self, token: str = "for") -> None:
        self.steps += 1
        if self.steps > self.limits.max_iterations:
            limit = self.limits.max_iterations
            raise BoundExceeded(f"more than {limit} loop iterations and calls (loop budget)", token)
        self.clock(token)

    def value(self, size: int, token: str) -> None:
        """Refuse a value of ``size`` characters (or items) that would not fit in a prompt."""
        if size > self.limits.max_output_bytes:
            cap = size_label(self.limits.max_output_bytes)
            what = f"'{token}'" if token and not token.isalpha() else (token or "a value")
            raise BoundExceeded(f"{what} would build more than {cap} (output-size limit)", token)

    def made(self, size: int, token: str) -> None:
        """Count a value the template built (or wrote) against this render's total."""
        self.value(size, token)
        self.built += size
        if self.built > BUILT_FACTOR * self.limits.max_output_bytes:
            limit = size_label(BUILT_FACTOR * self.limits.max_output_bytes)
            raise BoundExceeded(f"the template built more than {limit} of text in all (output-size limit)", token)
        self.clock(token)

    def write(self, text: str, token: str = "{{") -> str:
        self.made(utf8_size(text), token)
        return text

    def bits(self, bits: int, token: str) -> None:
        if bits > MAX_INT_BITS:
            message = f"'{token}' would make a {bits}-bit number, over {MAX_INT_BITS} (number-size limit)"
            raise BoundExceeded(message, token)


_CURRENT: ContextVar[Budget] = ContextVar("template_budget")


@contextmanager
def bounded(limits: TemplateLimits) -> Iterator[Budget]:
    """Renders inside this block spend one new budget."""
    token = _CURRENT.set(Budget(limits))
    try:
        yield _CURRENT.get()
    finally:
        _CURRENT.reset(token)


def current() -> Budget:
    return _CURRENT.get()


def utf8_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def value_size(value: Any, limit: int) -> int:
    """About how many characters ``str(value)`` makes; stops counting once past ``limit``."""
    total, stack = 0, [value]
    while stack and total <= limit:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + 2 * len(item)
            stack.extend(item)
        elif isinstance(item, dict):
            total += 2 + 4 * len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        else:
            total += 8
    return total


_DIGITS = re.compile(r"\d+")


def format_size(fmt: str, args: Any, limit: int) -> int:
    """An upper bound on the size of ``fmt % args`` or ``fmt.format(*args)``: widths count in full."""
    widths = 0
    for run in _DIGITS.findall(fmt):
        widths += int(run) if len(run) <= 18 else limit + 1
    values = list(args.values()) if isinstance(args, dict) else list(args) if isinstance(args, tuple) else [args]
    for v in values:
        if isinstance(v, int) and not isinstance(v, bool):
            widths += abs(v)  # a '*' or nested '{}' width
        elif isinstance(v, dict):
            values.extend(v.values())
    return len(fmt) + widths + value_size(values, limit)


def replace_size(s: str, old: str, new: str, count: int | None = None) -> int:
    found = s.count(old) if old else len(s) + 1
    if count is not None and count >= 0:
        found = min(found, count)
    return len(s) + found * max(len(new) - len(old), 0)
