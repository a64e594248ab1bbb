"""Light or dark, as the system is: the Fusion style with a dark palette when the platform says it is dark,
and following the system when it changes while the app runs."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

DARK = {
    QPalette.ColorRole.Window: "#2b2d30", QPalette.ColorRole.WindowText: "#dfe1e5",
    QPalette.ColorRole.Base: "#1e1f22", QPalette.ColorRole.AlternateBase: "#26282b",
    QPalette.ColorRole.Text: "#dfe1e5", QPalette.ColorRole.Button: "#393b40",
    QPalette.ColorRole.ButtonText: "#dfe1e5", QPalette.ColorRole.Highlight: "#2f65ca",
    QPalette.ColorRole.HighlightedText: "#ffffff", QPalette.ColorRole.ToolTipBase: "#393b40",
    QPalette.ColorRole.ToolTipText: "#dfe1e5", QPalette.ColorRole.PlaceholderText: "#8c8f94",
    QPalette.ColorRole.Link: "#6ea6ff",
}  # fmt: skip


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in DARK.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText, QPalette.ColorRole.WindowText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7d82"))
    return palette


def system_is_dark() -> bool:
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_system_scheme(app: QApplication) -> bool:
    """Dark palette if the system is dark, the style's own otherwise; True when dark."""
    dark = system_is_dark()
    if dark:
        app.setStyle("Fusion")  # the platform styles draw some parts with their own light colours
        app.setPalette(dark_palette())
    else:
        app.setPalette(app.style().standardPalette())
    return dark


def follow_system_scheme(app: QApplication) -> None:
    apply_system_scheme(app)
    QGuiApplication.styleHints().colorSchemeChanged.connect(lambda _: apply_system_scheme(app))
