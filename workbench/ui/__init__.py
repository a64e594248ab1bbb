"""The desktop app. Importing the package first repairs PySide6's signal emission and gives ``True`` its reserve
of references (see ``emit_repair``)
and makes PySide6's per-module source check one file read (see ``feature_scan``)."""

from workbench.ui.emit_repair import repair_signal_emit, reserve_true
from workbench.ui.feature_scan import speed_up_feature_scan

repair_signal_emit()
reserve_true()
speed_up_feature_scan()
