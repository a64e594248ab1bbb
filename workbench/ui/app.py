"""`workbench` with no arguments: the desktop app on the Qt event loop, asyncio through qasync.

Start-up order: Qt, then the window's first frame (``first_frame.py``: the saved geometry and
layout, the panes' docks saying they load); once that frame is drawn, the session, the main
window and its panes are imported and built (the dataset, the variants and the last run
restored), the main window takes the first frame's place, and after its own first frame the
HTTP client libraries load in a thread (``warm_up``).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QIcon, QWindow
from PySide6.QtWidgets import QApplication, QWidget

from workbench.core import startup
from workbench.paths import DEMO_DATASET, ICON
from workbench.ui import qt_platform
from workbench.ui.first_frame import FirstFrame, default_ui_settings_path
from workbench.ui.palette import follow_system_scheme

if TYPE_CHECKING:  # asyncio and qasync load once the first frame is drawn, the session and main window after it
    import asyncio

    from workbench.ui.main_window import MainWindow
    from workbench.ui.session import AppPaths, AppSession

FIRST_EXPOSE_WAIT_MS = 2000


def build(paths: AppPaths | None = None) -> tuple[AppSession, MainWindow]:
    """The session and its window, restored from the last time (QApplication must exist)."""
    from workbench.ui.main_window import MainWindow
    from workbench.ui.session import AppSession

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
    import asyncio

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


class FirstExpose(QObject):
    """Watches a shown window for its first expose (its first frame drawn): traces it, and runs each function
    given to :meth:`then` on the next turn of the event loop after it, so that none delays that frame.

    A window the system never exposes (minimised at start, say) runs them after ``FIRST_EXPOSE_WAIT_MS``.
    """

    def __init__(self, window: QWidget, event: str = "window exposed") -> None:
        super().__init__(window)
        self._event = event
        self._released = False
        self._waiting: list[Callable[[], object]] = []
        handle = window.windowHandle()
        if handle is None or handle.isExposed():
            self._release()
            return
        handle.installEventFilter(self)
        QTimer.singleShot(FIRST_EXPOSE_WAIT_MS, self, self._release)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Expose and isinstance(watched, QWindow) and watched.isExposed():
            watched.removeEventFilter(self)
            startup.mark(self._event)
            self._release()
        return False

    def then(self, run: Callable[[], object]) -> None:
        if self._released:
            QTimer.singleShot(0, run)
        else:
            self._waiting.append(run)

    def _release(self) -> None:
        if not self._released:
            self._released = True
            for run in self._waiting:
                QTimer.singleShot(0, run)
            self._waiting.clear()


def report_shown(started: float, what: str = "window shown") -> None:
    """Say how long after the process started the window was shown (mapped), or ready (its session loaded)."""
    in_main = 1000 * (time.perf_counter() - started)
    print(f"workbench: {what} {startup.since_start()} ({in_main:.0f} ms in main)", file=sys.stderr)


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
    frame = FirstFrame(default_ui_settings_path())
    frame.show()
    report_shown(started)
    drawn = FirstExpose(frame)
    app.processEvents()  # the first frame is drawn here where the platform has exposed it, before asyncio loads
    import asyncio

    import qasync

    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    closed = asyncio.Event()
    app.aboutToQuit.connect(closed.set)
    built: list[tuple[AppSession, MainWindow]] = []
    outcome: list[str] = []  # the smoke run's end, or "failed" when the window could not be built
    drawn.then(lambda: load_window(frame, started, built, outcome))
    with loop:
        loop.run_until_complete(closed.wait())
        for session, _ in built:
            loop.run_until_complete(session.shutdown())
    if "failed" in outcome:
        return 1
    return 0 if not os.environ.get("WORKBENCH_SMOKE_RUN") or outcome == ["completed"] else 1


def load_window(
    frame: FirstFrame, started: float, built: list[tuple[AppSession, MainWindow]], outcome: list[str]
) -> None:
    """After the first frame: build the session and the main window, which takes the frame's place."""
    import asyncio

    if not frame.isVisible():  # closed before it was drawn: the app is quitting
        return
    try:
        session, window = build()
    except BaseException:
        outcome.append("failed")  # the traceback is printed; the app ends rather than wait behind the frame
        QApplication.quit()
        raise
    built.append((session, window))
    frame.hand_over(window)
    FirstExpose(window, "main window exposed").then(warm_up)  # the HTTP libraries would compete with its frame
    exit_after = os.environ.get("WORKBENCH_EXIT_AFTER_MS")  # smoke tests: open, show, quit
    if exit_after:
        QTimer.singleShot(int(exit_after), window.close)
    smoke = os.environ.get("WORKBENCH_SMOKE_RUN")  # smoke tests: open, run N questions, report, quit
    if smoke:
        QTimer.singleShot(0, lambda: asyncio.ensure_future(smoke_run(session, window, int(smoke), outcome)))
    startup.mark("window ready")  # last: a closed stderr fails here, after the timers above are set
    report_shown(started, "window ready")


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
