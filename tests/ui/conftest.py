"""The app under test: real widgets offscreen, asyncio on Qt's loop through qasync, real servers."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtWidgets import QApplication

from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.ui.main_window import MainWindow
from workbench.ui.session import AppPaths, AppSession

T = TypeVar("T")


@pytest.fixture()
def qloop(qapp: Any, qtbot: Any) -> Iterator[asyncio.AbstractEventLoop]:
    """An asyncio loop on the running Qt loop; qtbot waits spin both (see PLATFORM-NOTES)."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for task in pending:
        task.cancel()
    qtbot.waitUntil(lambda: all(t.done() for t in pending), timeout=10_000)
    executor = getattr(loop, "_QEventLoop__default_executor", None)  # qasync's QThreads behind to_thread
    if executor is not None:
        executor.shutdown(wait=True)
    asyncio.set_event_loop(None)
    asyncio.events._set_running_loop(None)  # qasync (already_running=True) marked itself running


@pytest.fixture()
def app_paths(tmp_path: Path) -> AppPaths:
    return AppPaths(tmp_path / "workspace.sqlite", tmp_path / "profiles.json", tmp_path / "ui.ini")


def add_test_profiles(paths: AppPaths, base_url: str) -> None:
    """Endpoints on the test server: model "gold" answers right, model "wrong" answers wrong."""
    profiles = {
        name: EndpointProfile(name=name, base_url=base_url, model=name, concurrency=8, timeout_s=5.0)
        for name in ("gold", "wrong")
    }
    ProfileStore(paths.profiles).save(profiles)


def await_in_qt(qtbot: Any, awaitable: Awaitable[T], timeout_ms: int = 30_000) -> T:
    task = asyncio.ensure_future(awaitable)
    qtbot.waitUntil(task.done, timeout=timeout_ms)
    return task.result()


OpenWindow = Callable[[], MainWindow]


@pytest.fixture()
def open_window(qloop: asyncio.AbstractEventLoop, qtbot: Any, app_paths: AppPaths) -> Iterator[OpenWindow]:
    """Open the app's window on ``app_paths`` (call again after closing to 'restart' the app)."""
    opened: list[tuple[AppSession, MainWindow]] = []

    def open_() -> MainWindow:
        session = AppSession(app_paths)
        window = MainWindow(session)
        window.start()
        window.show()
        window.windowHandle().requestActivate()  # shortcuts go to the active window
        qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
        opened.append((session, window))
        return window

    yield open_
    for _session, window in opened:
        close_window(qtbot, window)


def close_window(qtbot: Any, window: MainWindow) -> None:
    """Close as a test ends: a run still going is cancelled first (quitting mid-run would ask; its own test)."""
    if window.session.running:
        window.session.cancel()
        qtbot.waitUntil(lambda: not window.session.running, timeout=30_000)
    if window.isVisible():
        window.close()
    await_in_qt(qtbot, window.session.shutdown())
