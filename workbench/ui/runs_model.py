"""The Runs pane's tree: one row per stored run on the open dataset, newest first, its variants (arms) as children.

The rows are ``core.reports.run_list`` dataclasses; this model only lays them out.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont

from workbench.core.reports.run_list import ArmRow, RunRow

COLUMNS = ("run", "date (UTC)", "split", "answered", "state", "model", "prompt", "retrieval", "EX %", "95% CI",
           "cost $")  # fmt: skip
TOOLTIPS = {
    "answered": "items answered (scored or unscorable) of the items asked; a run's row counts every variant",
    "state": "completed, cancelled, interrupted, failed, or running",
    "EX %": "execution accuracy over the items the variant scored",
    "95% CI": "Wilson interval of execution accuracy",
}
ArmKey = tuple[int, str]  # (run id, variant)
_Index = QModelIndex | QPersistentModelIndex
_RUN = 0  # internal id of a run's row; a variant's row holds its run's position + 1


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def _date(created_at: str) -> str:
    return created_at.replace("T", " ")[:16]


def _answered(answered: int, asked: int | None) -> str:
    return f"{answered} / {'?' if asked is None else asked}"


def run_text(run: RunRow, column: str) -> str:
    info = run.info
    values = {
        "run": f"#{info.id} {info.name}",
        "date (UTC)": _date(info.created_at),
        "split": info.split,
        "answered": _answered(run.answered, run.asked),
        "state": info.state,
        "model": ", ".join(dict.fromkeys(a.spec.model for a in run.arms)),
        "cost $": f"{run.cost:.4f}",
    }
    return values.get(column, "")


def arm_text(arm: ArmRow, column: str, pinned: bool) -> str:
    lo, hi = arm.interval
    values = {
        "run": arm.variant + (" (baseline)" if pinned else ""),
        "answered": _answered(arm.answered, arm.asked),
        "model": arm.spec.model,
        "prompt": arm.prompt,
        "retrieval": arm.retrieval,
        "EX %": _pct(arm.execution_accuracy) if arm.scored else "–",
        "95% CI": f"{_pct(lo)}–{_pct(hi)}" if arm.scored else "–",
        "cost $": f"{arm.cost:.4f}",
    }
    return values.get(column, "")


class RunsModel(QAbstractItemModel):
    def __init__(self) -> None:
        super().__init__()
        self.runs: list[RunRow] = []
        self.baseline: ArmKey | None = None

    def set_runs(self, runs: list[RunRow]) -> None:
        self.beginResetModel()
        self.runs = runs
        self.endResetModel()

    def set_baseline(self, key: ArmKey | None) -> None:
        self.baseline = key
        if self.runs:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.runs) - 1, len(COLUMNS) - 1))
            for k, run in enumerate(self.runs):
                parent = self.index(k, 0)
                if run.arms:
                    self.dataChanged.emit(self.index(0, 0, parent), self.index(len(run.arms) - 1, 0, parent))

    # --- what a row is ------------------------------------------------------------------
    def run_at(self, index: _Index) -> RunRow | None:
        if not index.isValid():
            return None
        position = index.row() if index.internalId() == _RUN else index.internalId() - 1
        return self.runs[position] if 0 <= position < len(self.runs) else None

    def arm_at(self, index: _Index) -> ArmRow | None:
        """The variant a row is; None for a run's row."""
        if not index.isValid() or index.internalId() == _RUN:
            return None
        run = self.run_at(index)
        return run.arms[index.row()] if run is not None and index.row() < len(run.arms) else None

    def arm_index(self, run_id: int, variant: str, column: int = 0) -> QModelIndex:
        for k, run in enumerate(self.runs):
            if run.info.id == run_id:
                names = [a.variant for a in run.arms]
                if variant in names:
                    return self.index(names.index(variant), column, self.index(k, 0))
        return QModelIndex()

    # --- Qt's model ---------------------------------------------------------------------
    def index(self, row: int, column: int, parent: _Index = QModelIndex()) -> QModelIndex:  # noqa: B008
        if not parent.isValid():
            return self.createIndex(row, column, _RUN) if 0 <= row < len(self.runs) else QModelIndex()
        if parent.internalId() != _RUN or not 0 <= parent.row() < len(self.runs):
            return QModelIndex()
        if not 0 <= row < len(self.runs[parent.row()].arms):
            return QModelIndex()
        return self.createIndex(row, column, parent.row() + 1)

    def parent(self, index: _Index = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        if not index.isValid() or index.internalId() == _RUN:
            return QModelIndex()
        return self.createIndex(index.internalId() - 1, 0, _RUN)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        if not parent.isValid():
            return len(self.runs)
        if parent.internalId() == _RUN and parent.column() == 0 and 0 <= parent.row() < len(self.runs):
            return len(self.runs[parent.row()].arms)
        return 0

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return TOOLTIPS.get(COLUMNS[section])
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        run, arm = self.run_at(index), self.arm_at(index)
        if run is None:
            return None
        column = COLUMNS[index.column()]
        pinned = arm is not None and self.baseline == (run.info.id, arm.variant)
        if role == Qt.ItemDataRole.DisplayRole:
            return run_text(run, column) if arm is None else arm_text(arm, column, pinned)
        if role == Qt.ItemDataRole.ToolTipRole and arm is None and not run.complete:
            return f"incomplete: {run.info.state}, {run_text(run, 'answered')} answered"
        if role == Qt.ItemDataRole.ForegroundRole and column == "state" and arm is None and not run.complete:
            return QColor("#a4500b")
        if role == Qt.ItemDataRole.FontRole and pinned:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("answered", "EX %", "95% CI", "cost $"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
