"""PySide6 reads the source of every module imported after it: make that one file read.

PySide6's import hook (``shibokensupport.feature``, for its opt-in ``from __feature__ import``
switches) asks of each newly imported module whether its source mentions "PySide6", through
``inspect.getsource``: a line cache, the module's whole text split into lines and joined again.
At start-up that runs for the 250-odd modules imported after Qt and costs tens of milliseconds
before the window can show. ``speed_up_feature_scan`` gives the hook the same answer for a
module with a ``.py`` file by searching the file's bytes; any other module (built in, frozen,
without a source file, unreadable) goes to PySide6's own check, so the answer never changes.
``workbench.ui`` runs it on import. Where PySide6 has no such hook, nothing is changed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import ModuleType

MARKER = b"PySide6"


def scanning_file(original: Callable[[ModuleType], bool]) -> Callable[[ModuleType], bool]:
    """``original``'s question (does the module's source mention PySide6?) answered from its ``.py`` file."""

    def uses_pyside(module: ModuleType) -> bool:
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and path.endswith(".py"):
            try:
                with open(path, "rb") as source:
                    return MARKER in source.read()
            except OSError:
                pass
        return original(module)

    uses_pyside.pyside_check = original  # type: ignore[attr-defined]  (marks it; what it falls back to)
    return uses_pyside


def speed_up_feature_scan() -> bool:
    """Replace the hook's source check once; whether it is (now) the file scan."""
    feature = sys.modules.get("shibokensupport.feature")
    original = getattr(feature, "_mod_uses_pyside", None)
    if feature is None or not callable(original):
        return False
    if not hasattr(original, "pyside_check"):
        feature._mod_uses_pyside = scanning_file(original)  # type: ignore[attr-defined]
    return True
