"""The window's layout: its docks, sized to the window; a compact layout for small screens; keyboard access
to every pane (Ctrl+1 … Ctrl+7); the question list's column widths kept across restarts."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Protocol

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

LAYOUT_VERSION = 1  # of the saved dock layout (QMainWindow.saveState)
# (key, title) of each dock, in the order of their shortcuts Ctrl+1 … Ctrl+7
PANES = (
    ("questions", "Questions"), ("outputs", "Outputs"), ("accuracy", "Accuracy"), ("prompt", "Prompt"),
    ("context", "Context"), ("plots", "Plots"), ("runs", "Runs"),
)  # fmt: skip
MENUS = ("&File", "&Edit", "&Run", "&Go", "&View", "&Help")  # the menu bar, left to right
TOOLBAR_NAME = "run-toolbar"
COMPACT_WIDTH = 1280  # a window narrower than this starts in the compact layout
COLUMNS_SETTING = "questions/columns"
# the share of the window each pane gets (of the width, then of its column's height)
QUESTIONS_SHARE, ACCURACY_SHARE, CONTEXT_SHARE = 0.40, 0.38, 0.42


class LaidOutWindow(Protocol):
    docks: dict[str, QDockWidget]
    settings: QSettings

    def _action(self, menu_name: str, text: str, slot: Callable[[], object], shortcut: str | None = None) -> object: ...


def build_docks(window: QMainWindow, widgets: dict[str, QWidget]) -> dict[str, QDockWidget]:
    """One dock per pane of ``PANES`` holding ``widgets[key]``: Questions over Accuracy on the left; Outputs over
    Context (tabbed with Prompt, Plots and Runs) on the right."""
    window.setDockNestingEnabled(True)
    docks: dict[str, QDockWidget] = {}
    for key, title in PANES:
        dock = QDockWidget(title, window)
        dock.setObjectName(f"dock-{key}")
        dock.setWidget(widgets[key])
        docks[key] = dock
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, docks["questions"])
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, docks["outputs"])
    window.splitDockWidget(docks["questions"], docks["accuracy"], Qt.Orientation.Vertical)
    window.splitDockWidget(docks["outputs"], docks["context"], Qt.Orientation.Vertical)
    for first, then in (("context", "prompt"), ("prompt", "plots"), ("plots", "runs")):
        window.tabifyDockWidget(docks[first], docks[then])
    docks["context"].raise_()
    return docks


def fit_docks(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Size the panes to the window (first start, Reset layout): shares, not fixed pixels, so 1280×800 works."""
    width, height = window.width(), window.height()
    left = int(width * QUESTIONS_SHARE)
    window.resizeDocks([docks["questions"], docks["outputs"]], [left, width - left], Qt.Orientation.Horizontal)
    column = max(200, height - 140)  # less the toolbar, menu and status bar
    accuracy, context = int(column * ACCURACY_SHARE), int(column * CONTEXT_SHARE)
    window.resizeDocks([docks["questions"], docks["accuracy"]], [column - accuracy, accuracy], Qt.Orientation.Vertical)
    window.resizeDocks([docks["outputs"], docks["context"]], [column - context, context], Qt.Orientation.Vertical)


def compact_layout(window: QMainWindow, docks: dict[str, QDockWidget]) -> None:
    """Two tall panes side by side: Questions tabbed with Accuracy, Outputs with Context, Prompt, Plots, Runs."""
    window.tabifyDockWidget(docks["questions"], docks["accuracy"])
    window.tabifyDockWidget(docks["context"], docks["outputs"])  # Context is tabbed with Prompt, Plots, Runs
    docks["questions"].raise_()
    docks["outputs"].raise_()
    left = int(window.width() * QUESTIONS_SHARE)
    window.resizeDocks([docks["questions"], docks["outputs"]], [left, window.width() - left], Qt.Orientation.Horizontal)


def focus_pane(dock: QDockWidget) -> None:
    """Show the pane (raise its tab) and give it the keyboard."""
    dock.show()
    dock.raise_()
    widget = dock.widget()
    if widget is None:
        return
    takers = [w for w in widget.findChildren(QWidget) if w.focusPolicy() != Qt.FocusPolicy.NoFocus and w.isVisible()]
    (widget.focusProxy() or (takers[0] if takers else widget)).setFocus(Qt.FocusReason.ShortcutFocusReason)


def add_pane_shortcuts(window: LaidOutWindow) -> None:
    """View ▸ Go to <pane>: Ctrl+1 … Ctrl+7, in the docks' order."""
    for number, (key, dock) in enumerate(window.docks.items(), start=1):
        window._action("&View", f"Go to {dock.windowTitle()}", lambda _=False, d=dock: focus_pane(d), f"Ctrl+{number}")
        dock.setToolTip(f"{dock.windowTitle()} (Ctrl+{number})")
        del key


def preferences_keys() -> list[QKeySequence]:
    """The platform's Preferences keys, with Ctrl+, first wherever the platform maps Preferences to nothing else."""
    keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
    fallback = QKeySequence("Ctrl+,")
    return keys if fallback in keys else [fallback, *keys]


def saved_columns(settings: QSettings) -> dict[str, list[int]]:
    try:
        value = json.loads(str(settings.value(COLUMNS_SETTING, "{}")))
    except ValueError:
        return {}
    return {str(k): [int(w) for w in v] for k, v in value.items()} if isinstance(value, dict) else {}


def save_columns(settings: QSettings, widths: dict[str, list[int]]) -> None:
    settings.setValue(COLUMNS_SETTING, json.dumps(widths))
