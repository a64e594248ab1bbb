"""The window's first frame: drawn before the session, the dataset and the panes' modules load.

``workbench`` shows a :class:`FirstFrame` as soon as Qt is up: the window's saved place and size,
its menu bar, its toolbar and the panes' docks in their saved layout, each saying it is
loading. Once that frame is drawn the app imports and builds the real window (``app.py``),
puts it where the first frame is and closes the first frame. This module imports Qt and
nothing of the session, so the first frame costs Qt's start-up and little else.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QToolBar, QWidget

from workbench.ui.window_layout import (
    COMPACT_WIDTH,
    LAYOUT_VERSION,
    MENUS,
    PANES,
    TOOLBAR_NAME,
    build_docks,
    compact_layout,
    fit_docks,
)

LOADING = "loading…"


def default_ui_settings_path() -> Path:
    """The window's settings file (layout, last dataset, variants): ``ui.ini`` in your config folder."""
    from platformdirs import user_config_dir

    return Path(user_config_dir("workbench")) / "ui.ini"


def _placeholder(text: str) -> QWidget:
    label = QLabel(text)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setEnabled(False)  # greyed: nothing to use yet
    return label


class FirstFrame(QMainWindow):
    """The main window's shape with nothing in it yet: title, saved geometry, menus, toolbar and docks."""

    def __init__(self, settings_path: Path) -> None:
        super().__init__()
        self.setWindowTitle("workbench")
        self.resize(1500, 900)  # as MainWindow
        for name in MENUS:
            self.menuBar().addMenu(name).setEnabled(False)
        toolbar = QToolBar("Run")
        toolbar.setObjectName(TOOLBAR_NAME)
        toolbar.addWidget(_placeholder(LOADING))
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.docks = build_docks(self, {key: _placeholder(f"{title}: {LOADING}") for key, title in PANES})
        self.statusBar().showMessage("loading the dataset and the last run…")
        settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
        geometry, state = settings.value("geometry"), settings.value("state")
        if geometry is not None:
            self.restoreGeometry(geometry)  # type: ignore[arg-type]
        self._fitted = state is not None and self.restoreState(state, LAYOUT_VERSION)  # type: ignore[arg-type]

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:  # no saved layout: the panes' shares of the window, as MainWindow.reset_layout
            self._fitted = True
            (compact_layout if self.width() < COMPACT_WIDTH else fit_docks)(self, self.docks)

    def hand_over(self, window: QMainWindow) -> None:
        """Show ``window`` where this frame is (same place, size and state), then close this frame."""
        window.restoreGeometry(self.saveGeometry())
        window.show()
        self.close()
