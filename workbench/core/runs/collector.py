"""Python's garbage collector while a run is going: fewer collections.

With a thousand requests in flight, each holding its SDK objects, buffers and tasks, the
default thresholds (700, 10, 10) make the collector traverse the same live objects over
and over: in bench/client_throughput.py's cluster phase it took 0.2 ms of a request's
1.27 ms of CPU. For as long as a run with many requests in flight (``RAISE_FROM``) is
going, ``run_collector`` raises the thresholds; the last such run to end restores them. A
run with few in flight (the app's usual 8 or 16) keeps the defaults: there each collection
is short, and raised thresholds made the app's longest stalls longer (bench/ui_latency.py,
10,000 results: 136-146 ms against 118-134 ms). What the app froze (``ui/app.py``: its long-lived
objects, out of the collector's reach) stays frozen. Memory stays bounded: only cyclic
garbage waits for a collection, and at most the first threshold of new objects.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

RUN_THRESHOLDS = (50_000, 20, 100)
RAISE_FROM = 256  # requests in flight

_lock = threading.Lock()
_runs = 0
_saved: tuple[int, int, int] | None = None  # the thresholds before the first of the runs going now


@contextlib.contextmanager
def run_collector(in_flight: int) -> Iterator[None]:
    """The collector as a run with ``in_flight`` requests at a time wants it, for the time of the ``with``.

    ``in_flight`` is what the run's concurrency gates let through together: one gate per profile (the runner sums
    the concurrency of its distinct profiles, not of its variants).
    """
    global _runs, _saved
    if in_flight < RAISE_FROM:
        yield
        return
    with _lock:
        if _runs == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(*RUN_THRESHOLDS)
        _runs += 1
    try:
        yield
    finally:
        with _lock:
            _runs -= 1
            if _runs == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None
