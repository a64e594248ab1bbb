"""Starting the desktop app in a fresh process, as a user would, and reading back what it measured.

The benches that time the app (``ui_latency.py``, ``large_run.py``) run themselves again with
``--child``: the child builds the app offscreen on a qasync loop, measures, and writes its figures
as JSON to ``--out``; ``--spawned-at`` is the parent's clock when it started the process, so a
figure "from process start" counts the interpreter's start-up and every import.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any


def add_child_arguments(ap: argparse.ArgumentParser, *hidden: str) -> None:
    """``--child``, ``--work``, ``--out``, ``--spawned-at`` and the bench's own ``hidden`` string options."""
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    for name in ("--work", "--out", *hidden):
        ap.add_argument(name, help=argparse.SUPPRESS)
    ap.add_argument("--spawned-at", type=float, help=argparse.SUPPRESS)


def run_child(script: str, folder: Path, options: dict[str, str], timeout_s: float = 600) -> dict[str, float]:
    """Run ``script --child`` in a fresh process (offscreen) with its own work folder; its figures."""
    import time

    work = Path(tempfile.mkdtemp(dir=folder))
    out = work / "figures.json"
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    extra = [part for key, value in options.items() for part in (key, value)]
    spawned = time.time()
    cmd = [sys.executable, script, "--child", "--work", str(work), "--out", str(out), "--spawned-at", repr(spawned)]
    subprocess.run([*cmd, *extra], env=env, check=True, stderr=subprocess.DEVNULL, timeout=timeout_s)
    return dict(json.loads(out.read_text()))


def run_in_app(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    """The child's side: a QApplication (the one made already, if any) on a qasync loop, running ``main`` to its
    end."""
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main())


def write_figures(out: str, figures: dict[str, float]) -> None:
    Path(out).write_text(json.dumps(figures))


def rss_mb() -> tuple[float, float]:
    """This process's resident memory now and at its peak, in MB (Linux's /proc)."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
