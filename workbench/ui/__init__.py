"""The desktop app. Importing the package first repairs PySide6's signal emission (see ``emit_repair``)."""

from workbench.ui.emit_repair import repair_signal_emit

repair_signal_emit()
