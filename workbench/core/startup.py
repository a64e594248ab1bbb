"""How long after its process started something happened: start-up goals are measured from ``exec``.

With ``WORKBENCH_TRACE_STARTUP=1`` in the environment, ``mark(event)`` prints, once per event,
``startup: EVENT N ms after process start`` to stderr. The process start is the kernel's
(``/proc/self/stat``, in clock ticks of 10 ms, rounded down, so a figure errs long by up to
one tick); the figure includes the interpreter's own start-up and every import.
"""

from __future__ import annotations

import os
import sys
import time

TRACE_VARIABLE = "WORKBENCH_TRACE_STARTUP"
_marked: set[str] = set()


def process_age_ms() -> float | None:
    """Milliseconds since this process started, or None where the system does not say (no /proc)."""
    try:
        with open("/proc/self/stat", "rb") as stat:
            text = stat.read()
        start_ticks = int(text[text.rindex(b")") + 2 :].split()[19])  # field 22: starttime, ticks since boot
        return 1000 * (time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError, AttributeError):
        return None


def since_start() -> str:
    """``N ms after process start`` (or that the start is unknown)."""
    age = process_age_ms()
    return f"{age:.0f} ms after process start" if age is not None else "(process start unknown)"


def mark(event: str) -> None:
    """Print when ``event`` first happens in this process, if start-up tracing is on."""
    if event in _marked or not os.environ.get(TRACE_VARIABLE):
        return
    _marked.add(event)
    print(f"startup: {event} {since_start()}", file=sys.stderr, flush=True)
