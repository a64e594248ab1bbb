"""The Accuracy pane: a live table of variants x figures, and a paired comparison of two variants."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from workbench.core.reports.results import QuestionFilter
from workbench.core.reports.summaries import VariantSummary
from workbench.core.scoring.exact import HARDNESS_LEVELS
from workbench.ui.session import AppSession

COLUMNS = ("variant", "model", "n", "EX %", "95% CI", "EM %", *HARDNESS_LEVELS, "failed", "tokens", "cost $", "p50 ms")
HARDNESS_COLUMNS = {COLUMNS.index(h): h for h in HARDNESS_LEVELS}
_Index = QModelIndex | QPersistentModelIndex


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def cell_text(s: VariantSummary, column: str) -> str:
    if column in HARDNESS_LEVELS:
        right, n = s.by_hardness[column]
        return f"{_pct(right / n)} ({n})" if n else "–"
    lo, hi = s.interval
    p50 = s.latency_ms(50)
    values: dict[str, str] = {
        "variant": s.variant,
        "model": s.model,
        "n": str(s.completed),
        "EX %": _pct(s.execution_accuracy) if s.completed else "–",
        "95% CI": f"{_pct(lo)}–{_pct(hi)}" if s.completed else "–",
        "EM %": _pct(s.exact_accuracy) if s.completed else "–",
        "failed": str(s.failed),
        "tokens": f"{s.prompt_tokens + s.completion_tokens:,}",
        "cost $": f"{s.cost:.4f}",
        "p50 ms": "–" if p50 is None else f"{p50:.0f}",
    }
    return values[column]


class AccuracyModel(QAbstractTableModel):
    """Rows are variants; the figures come from core summaries, refreshed on coalesced updates."""

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.summaries: list[VariantSummary] = []
        session.results_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        fresh = self.session.results.summaries()
        if [s.variant for s in fresh] != [s.variant for s in self.summaries]:
            self.beginResetModel()
            self.summaries = fresh
            self.endResetModel()
            return
        self.summaries = fresh
        if fresh:
            self.dataChanged.emit(self.index(0, 0), self.index(len(fresh) - 1, len(COLUMNS) - 1))

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.summaries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            column = COLUMNS[section]
            if column in HARDNESS_LEVELS:
                return f"execution accuracy on {column} questions (count); click to list them"
            return {"EX %": "execution accuracy; click to list the wrong answers",
                    "EM %": "exact-set match (Spider)",
                    "95% CI": "Wilson interval of execution accuracy"}.get(column)  # fmt: skip
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        summary, column = self.summaries[index.row()], COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(summary, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == "failed" and summary.failed:
            return QColor("#a4500b")
        return None

    def filter_for(self, row: int, column: int) -> QuestionFilter:
        """What clicking a cell lists: a hardness column lists that level; others the variant's misses."""
        variant = self.summaries[row].variant
        if column in HARDNESS_COLUMNS:
            return QuestionFilter("all", variant, HARDNESS_COLUMNS[column])
        if COLUMNS[column] == "failed":
            return QuestionFilter("failed", variant)
        return QuestionFilter("wrong", variant)


class AccuracyPane(QWidget):
    comparison_changed = Signal(str)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.model = AccuracyModel(session)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectItems)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Click a cell to list its questions")
        self.first = QComboBox()
        self.second = QComboBox()
        self.comparison = QLabel()
        self.comparison.setWordWrap(True)
        pair = QHBoxLayout()
        pair.addWidget(QLabel("Compare"))
        pair.addWidget(self.first)
        pair.addWidget(QLabel("with"))
        pair.addWidget(self.second)
        pair.addWidget(self.comparison, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(pair)
        self.table.clicked.connect(self._cell_clicked)
        self.first.currentIndexChanged.connect(lambda _: self.update_comparison())
        self.second.currentIndexChanged.connect(lambda _: self.update_comparison())
        session.results_changed.connect(self._results_changed)
        self._results_changed()

    def _cell_clicked(self, index: QModelIndex) -> None:
        self.session.set_filter(self.model.filter_for(index.row(), index.column()))

    def _results_changed(self) -> None:
        names = list(self.session.results.variants)
        if names != [self.first.itemText(i) for i in range(self.first.count())]:
            for combo, default in ((self.first, 0), (self.second, 1)):
                combo.blockSignals(True)
                combo.clear()
                combo.addItems(names)
                combo.setCurrentIndex(min(default, len(names) - 1))
                combo.blockSignals(False)
        self.update_comparison()

    def update_comparison(self) -> None:
        a, b = self.first.currentText(), self.second.currentText()
        if not a or not b or a == b:
            self.comparison.setText("<i>choose two variants</i>")
            return
        pair = self.session.results.compare(a, b)
        text = (
            f"<b>{a}</b> right where <b>{b}</b> is wrong: <b>{pair.first_only}</b>; the reverse: "
            f"<b>{pair.second_only}</b>; both right {pair.both_right}, both wrong {pair.both_wrong} "
            f"(n={pair.n}); McNemar p = {pair.p_value:.3g}"
        )
        self.comparison.setText(text)
        self.comparison_changed.emit(text)
