"""The first frame (drawn before the session loads) has the main window's shape: its saved place, size and dock
layout, the same menus and panes; the main window then takes its place."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QLabel

from tests.ui.conftest import OpenWindow, close_window
from workbench.ui.first_frame import FirstFrame
from workbench.ui.session import AppPaths
from workbench.ui.window_layout import PANES


def menus(window: Any) -> list[str]:
    return [action.text() for action in window.menuBar().actions()]


def test_the_first_frame_restores_the_saved_window_and_hands_over_to_it(
    open_window: OpenWindow, qtbot: Any, app_paths: AppPaths
) -> None:
    window = open_window()
    window.docks["accuracy"].hide()
    window.move(23, 31)
    close_window(qtbot, window)

    frame = FirstFrame(app_paths.ui_settings)
    qtbot.addWidget(frame)
    frame.show()
    qtbot.waitExposed(frame)
    assert frame.windowTitle() == "workbench" and menus(frame) == menus(window)
    assert [d.windowTitle() for d in frame.docks.values()] == [title for _, title in PANES]
    assert frame.docks["accuracy"].isHidden() and not frame.docks["questions"].isHidden()  # the saved layout
    placeholder = frame.docks["questions"].widget()
    assert isinstance(placeholder, QLabel) and "loading" in placeholder.text()

    again = open_window()  # what app.py does after the first frame: build the window, then hand over
    # both restored from the saved geometry (the width may differ on the small offscreen screen, 800×800: the
    # main window's panes have a wider minimum than the placeholders)
    assert (again.pos(), again.height()) == (frame.pos(), frame.height())
    frame.resize(frame.width(), frame.height() - 100)  # the frame resized while the session loaded
    frame.hand_over(again)
    qtbot.waitUntil(lambda: not frame.isVisible() and again.isVisible())
    assert again.height() == frame.height()  # (a window wider than the offscreen screen is moved back onto it)


def test_a_first_start_frame_lays_its_panes_out_as_the_window_does(qtbot: Any, app_paths: AppPaths) -> None:
    frame = FirstFrame(app_paths.ui_settings)  # no settings file yet
    qtbot.addWidget(frame)
    frame.show()
    qtbot.waitExposed(frame)
    questions, outputs = frame.docks["questions"], frame.docks["outputs"]
    assert questions.x() < outputs.x() and 0.3 < questions.width() / frame.width() < 0.5  # QUESTIONS_SHARE
    assert frame.tabifiedDockWidgets(frame.docks["context"])  # Context tabbed with Prompt, Plots, Runs
    frame.close()
