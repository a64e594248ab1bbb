"""`workbench` with no arguments: the desktop app on the Qt event loop, asyncio through qasync."""

from __future__ import annotations

import asyncio
import os
import sys
import time

import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from workbench.ui.main_window import MainWindow
from workbench.ui.session import AppPaths, AppSession


def build(paths: AppPaths | None = None) -> tuple[AppSession, MainWindow]:
    """The session and its window, restored from the last time (QApplication must exist)."""
    session = AppSession(paths)
    window = MainWindow(session)
    window.start()
    return session, window


def no_display() -> bool:
    env = os.environ
    return sys.platform.startswith("linux") and not (
        env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM")
    )


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    if no_display():
        print(
            "workbench: no display to open a window on (DISPLAY is not set). Use the command line "
            "(workbench --help), or set QT_QPA_PLATFORM=offscreen to run the window headless.",
            file=sys.stderr,
        )
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1] + list(argv or []))
    assert isinstance(app, QApplication)
    app.setApplicationName("workbench")
    app.setOrganizationName("workbench")
    app.setDesktopFileName("workbench")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    session, window = build()
    window.show()
    shown = lambda: print(f"workbench: window shown {1000 * (time.perf_counter() - started):.0f} ms after start", file=sys.stderr)  # noqa: E731, E501
    QTimer.singleShot(0, shown)
    exit_after = os.environ.get("WORKBENCH_EXIT_AFTER_MS")  # smoke tests: open, show, quit
    if exit_after:
        QTimer.singleShot(int(exit_after), window.close)
    with loop:
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(session.shutdown())
    return 0
