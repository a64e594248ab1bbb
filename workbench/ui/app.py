"""`workbench` with no arguments: the desktop app on the Qt event loop, asyncio through qasync."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable

import qasync
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon, QWindow
from PySide6.QtWidgets import QApplication, QWidget

from workbench.core import startup
from workbench.paths import DEMO_DATASET, ICON
from workbench.ui import qt_platform
from workbench.ui.main_window import MainWindow
from workbench.ui.palette import follow_system_scheme
from workbench.ui.session import AppPaths, AppSession

FIRST_EXPOSE_WAIT_MS = 2000


def build(paths: AppPaths | None = None) -> tuple[AppSession, MainWindow]:
    """The session and its window, restored from the last time (QApplication must exist)."""
    session = AppSession(paths)
    window = MainWindow(session)
    window.start()
    # Everything loaded so far (Qt, the SDK, the dataset) lives as long as the app: move it out of
    # the collector's reach, or each full collection walks it all and stalls the window (~100 ms).
    gc.freeze()
    return session, window


def no_display() -> bool:
    env = os.environ
    return sys.platform.startswith("linux") and not (
        env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM")
    )


def warm_up() -> asyncio.Future[None]:
    """Load the HTTP client libraries in a thread once the window is up, then freeze them too.

    The window opens without the openai SDK (0.7 s to import); a run or a connection test
    would otherwise pay that on the event loop the first time.
    """
    loop = asyncio.get_event_loop()
    done: asyncio.Future[None] = loop.create_future()

    def finished() -> None:
        gc.freeze()
        if not done.done():
            done.set_result(None)

    def load() -> None:
        for name in ("openai", "httpx", "aiohttp"):
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        loop.call_soon_threadsafe(finished)

    threading.Thread(target=load, name="warm-up", daemon=True).start()
    return done


class _FirstExpose(QObject):
    """At the window's first expose (its first frame is drawn): trace it, then start ``then`` on the next turn."""

    def __init__(self, parent: QObject, then: Callable[[], object]) -> None:
        super().__init__(parent)
        self._then = then

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Expose and isinstance(watched, QWindow) and watched.isExposed():
            watched.removeEventFilter(self)
            startup.mark("window exposed")
            QTimer.singleShot(0, self._then)
        return False


def report_shown(window: QWidget, started: float) -> None:
    """Say how long after the process started the window was shown (mapped)."""
    in_main = 1000 * (time.perf_counter() - started)
    print(f"workbench: window shown {startup.since_start()} ({in_main:.0f} ms in main)", file=sys.stderr)


def after_first_expose(window: QWidget, then: Callable[[], object]) -> None:
    """Run ``then`` once the shown window has drawn its first frame, so that it does not delay that frame.

    A window the system never exposes (minimised at start, say) gets it after ``FIRST_EXPOSE_WAIT_MS``.
    """
    ran: list[bool] = []

    def once() -> None:
        if not ran:
            ran.append(True)
            then()

    handle = window.windowHandle()
    if handle is None or handle.isExposed():
        QTimer.singleShot(0, once)
        return
    handle.installEventFilter(_FirstExpose(window, once))
    QTimer.singleShot(FIRST_EXPOSE_WAIT_MS, once)


def main(argv: list[str] | None = None) -> int:
    started = time.perf_counter()
    if no_display():
        print(
            "workbench: no display to open a window on (DISPLAY is not set). Use the command line "
            "(workbench --help), or set QT_QPA_PLATFORM=offscreen to run the window headless.",
            file=sys.stderr,
        )
        return 2
    if QApplication.instance() is None and (problem := qt_platform.problem()):
        print(problem, file=sys.stderr)  # instead of Qt's generic message and an abort
        return 2
    app = QApplication.instance() or QApplication(sys.argv[:1] + list(argv or []))
    assert isinstance(app, QApplication)
    app.setApplicationName("workbench")
    app.setOrganizationName("workbench")
    app.setDesktopFileName("workbench")
    app.setWindowIcon(QIcon(str(ICON)))
    follow_system_scheme(app)  # a dark palette where the system is dark
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    session, window = build()
    window.show()
    report_shown(window, started)
    after_first_expose(window, warm_up)  # the HTTP libraries' import would compete with the first frame
    exit_after = os.environ.get("WORKBENCH_EXIT_AFTER_MS")  # smoke tests: open, show, quit
    if exit_after:
        QTimer.singleShot(int(exit_after), window.close)
    smoke = os.environ.get("WORKBENCH_SMOKE_RUN")  # smoke tests: open, run N questions, report, quit
    outcome: list[str] = []
    if smoke:
        QTimer.singleShot(0, lambda: asyncio.ensure_future(smoke_run(session, window, int(smoke), outcome)))
    with loop:
        loop.run_until_complete(closed.wait())
        loop.run_until_complete(session.shutdown())
    return 0 if not smoke or outcome == ["completed"] else 1


async def smoke_run(session: AppSession, window: MainWindow, limit: int, outcome: list[str]) -> None:
    """Run the window's variants over the first ``limit`` questions, print the result, close."""
    dataset = session.dataset
    session.open_dataset(
        dataset.root if dataset else DEMO_DATASET, session.split, dataset.questions if dataset else None
    )
    session.limit = limit
    task = session.start_run()
    if task is not None:
        await task
    summaries = session.results.summaries()
    figures = ", ".join(f"{s.variant} {s.correct}/{s.completed}" for s in summaries)
    print(f"smoke: run {session.state}: {session.results.done} answers; {figures}", file=sys.stderr)
    outcome.append(session.state)
    window.close()
