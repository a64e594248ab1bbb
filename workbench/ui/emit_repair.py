"""PySide6 6.12's ``SignalInstance.emit`` takes a reference from ``True`` on every call: give it back.

Each ``some_signal.emit(...)`` made from Python returns ``True`` without owning the reference
it hands back, so every emission leaves ``True`` one reference short (Python 3.11 counts them;
3.12 made ``True`` immortal). The app and the libraries under it emit all the time (the
session's coalesced repaints, qasync's ``call_soon_threadsafe``), so the count runs down: at
interpreter exit, or mid-session once it reaches zero, Python aborts with "Fatal Python error:
bool_dealloc: deallocating True or False". ``QObject.emit`` is not affected.

``repair_signal_emit`` measures the loss on a private signal and, only when there is one, wraps
``SignalInstance.emit`` so each successful call gives back what it took. A PySide6 that counts
right is left alone. ``workbench.ui`` runs it on import, before any of its modules can emit.

That is not the only shortfall: with the repair in place, the whole UI test suite in one process
(PySide6 6.12.0, Python 3.11) still aborted at exit with ``bool_dealloc`` (run alone, no test file
does; 14 of its 28 files together do), and giving ``True`` spare references made that go away, so
some other native code also hands out references to ``True`` that it does not own. Where ``True``
is mortal, ``reserve_true`` gives it ``TRUE_RESERVE`` references that nothing ever takes back: what
3.12 does by making it immortal. ``True`` is a static object and is never freed in any case.
"""

from __future__ import annotations

import ctypes
import gc
import statistics
import sys
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance

TRUE_RESERVE = 1 << 24  # far more than a session's native code could take without owning
PROBE_CALLS = 64
PROBE_ROUNDS = 3
Emit = Callable[..., Any]

_incref = ctypes.pythonapi.Py_IncRef
_incref.argtypes = [ctypes.py_object]
_incref.restype = None


class _Probe(QObject):
    ping = Signal()


def references_lost(emit: Emit, calls: int = PROBE_CALLS) -> int:
    """How many references to ``True`` ``calls`` emissions of an unconnected signal through ``emit`` take.

    The collector is held off while counting: a collection that frees objects holding ``True``
    would move the count by as much as the fault does.
    """
    probe = _Probe()
    signal = probe.ping
    collecting = gc.isenabled()
    gc.disable()
    try:
        before = sys.getrefcount(True)
        for _ in range(calls):
            emit(signal)
        return before - sys.getrefcount(True)
    finally:
        if collecting:
            gc.enable()


def give_back(count: int) -> None:
    """Return ``count`` references to ``True`` that a faulty emission took."""
    for _ in range(count):
        _incref(True)


def _repaired(emit: Emit, lost_per_call: int) -> Emit:
    def emit_and_give_back(self: SignalInstance, *args: Any) -> Any:
        result = emit(self, *args)  # raises before it takes anything (checked by the tests)
        give_back(lost_per_call)
        return result

    emit_and_give_back.__wrapped__ = emit  # type: ignore[attr-defined]
    emit_and_give_back.__doc__ = emit.__doc__
    return emit_and_give_back


def reserve_true() -> bool:
    """Give ``True`` its reserve once per process where its count can reach zero (Python before 3.12)."""
    if sys.version_info >= (3, 12) or getattr(reserve_true, "done", False):
        return False
    _reserve(True, TRUE_RESERVE)
    reserve_true.done = True  # type: ignore[attr-defined]
    return True


def _reserve(obj: object, count: int) -> None:
    refcount = ctypes.c_ssize_t.from_address(id(obj))  # ob_refcnt, the first field of every object
    refcount.value += count


def repair_signal_emit() -> int:
    """Wrap ``SignalInstance.emit`` if it loses references: how many per call (0: sound, or repaired already)."""
    emit: Emit = SignalInstance.emit
    if hasattr(emit, "__wrapped__"):  # already repaired in this process
        return 0
    rounds = [references_lost(emit) for _ in range(PROBE_ROUNDS)]
    lost_per_call = round(statistics.median(rounds) / PROBE_CALLS)  # a thread's stray change is outvoted
    if lost_per_call <= 0:
        return 0
    give_back(lost_per_call * PROBE_CALLS * PROBE_ROUNDS)  # what the measurement itself took
    SignalInstance.emit = _repaired(emit, lost_per_call)  # type: ignore[method-assign]
    return lost_per_call
