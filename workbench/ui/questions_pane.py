"""The question list: the split's questions with each variant's verdict, filtered."""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.data.items import Item
from workbench.core.reports.experiments import Arm
from workbench.core.reports.results import QuestionFilter
from workbench.ui.baseline_arms import CurrentArms, comparison_filter
from workbench.ui.dispute_dialog import DisputeActions
from workbench.ui.gold_overlay import GoldOverlay
from workbench.ui.outputs_pane import VERDICT_LOOKS
from workbench.ui.session import AppSession

FIXED = ("#", "db", "hardness", "question")
VERDICT_WIDTH = 46  # a verdict column: the mark, and the start of the variant's name
MARKS = {"✓ correct": "✓", "✗ wrong": "✗", "failed": "!", "unscorable": "?", "not answered yet": "·"}
_Index = QModelIndex | QPersistentModelIndex


class QuestionsModel(QAbstractTableModel):
    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.rows: list[int] = []  # item indices shown
        self.variants: list[str] = []
        self.search = ""
        self.overlay = GoldOverlay.of(session)  # disputes and gold problems: marks and tooltips on the question

    def reload(self) -> None:
        session = self.session
        needle = self.search.lower()
        rows = session.visible_indices()
        if needle:
            rows = [i for i in rows if needle in self._item(i).question.lower() or needle == str(i)]
        variants = list(session.results.variants)
        if rows != self.rows or variants != self.variants:
            self.beginResetModel()
            self.rows, self.variants = rows, variants
            self.endResetModel()
        elif rows:
            self.dataChanged.emit(self.index(0, 2), self.index(len(rows) - 1, self.columnCount() - 1))

    def row_of(self, index: int | None) -> int | None:
        """The row showing question ``index``, if shown: the rows are in the split's order, so it is looked up."""
        if index is None:
            return None
        row = bisect_left(self.rows, index)
        return row if row < len(self.rows) and self.rows[row] == index else None

    def _item(self, index: int) -> Item:
        """The split's question ``index``, read from the session's items when shown (no per-row copy kept)."""
        found = self.session.item(index)
        assert found is not None, f"question {index} is not in the split"
        return found

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(FIXED) + len(self.variants)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        name = FIXED[section] if section < len(FIXED) else self.variants[section - len(FIXED)]
        if role == Qt.ItemDataRole.DisplayRole:
            return name
        if role == Qt.ItemDataRole.ToolTipRole:  # a verdict column is narrower than its variant's name
            return name if section < len(FIXED) else f"{name}: ✓ right, ✗ wrong, ! failed, · not yet"
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        item_index, column = self.rows[index.row()], index.column()
        if column >= len(FIXED):
            variant = self.variants[column - len(FIXED)]
            label, colour = VERDICT_LOOKS[self.session.results.answer_state(variant, item_index)]  # no row read
            if role == Qt.ItemDataRole.DisplayRole:
                return MARKS[label]
            if role == Qt.ItemDataRole.ForegroundRole:
                return QColor(colour)
            if role == Qt.ItemDataRole.ToolTipRole:  # the row's reason: read from the store when hovered
                row = self.session.results.outcome(variant, item_index)
                return f"{label}: {row.reason}" if row else label
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return int(Qt.AlignmentFlag.AlignCenter)
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            item = self._item(item_index)
            db_id, question = item.db_id, item.question
            if column == 0:
                return item_index
            if column == 1:
                return db_id
            if column == 2:
                return self.session.results.hardness(item_index) or ""
            marks = self.overlay.marks(item_index)
            return f"{marks} {question}" if marks else question
        if role == Qt.ItemDataRole.ToolTipRole and column == 3:
            return "\n".join([self._item(item_index).question, *self.overlay.notes(item_index)])
        if role == Qt.ItemDataRole.ToolTipRole and column in (1, 2):  # elided when the column is narrow
            return self._item(item_index).db_id if column == 1 else self.session.results.hardness(item_index)
        return None


class QuestionsPane(QWidget):
    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.baseline: Arm | None = None  # the pinned baseline: its fixed/broken filters join the menu
        self.current = CurrentArms(session)
        self.kind = QComboBox()
        self.hardness = QComboBox()
        self.search = QLineEdit()
        self.search.setPlaceholderText("search questions (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.count = QLabel()
        self.count.setWordWrap(True)
        self.show_all = QPushButton("Show all questions")
        self.show_all.setToolTip("Clear the filter and the search")
        self.show_all.hide()  # only when the filter and search hide every question
        self.model = QuestionsModel(session)
        self._sized_columns = -1
        self.column_widths: dict[str, list[int]] = {}  # column layout -> widths (restored by the window)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.setWordWrap(False)
        self.dispute_actions = DisputeActions(session, self.table, self._dispute_target)
        filters = QHBoxLayout()
        filters.addWidget(self.kind, 2)
        filters.addWidget(self.hardness, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        status = QHBoxLayout()
        status.addWidget(self.count, 1)
        status.addWidget(self.show_all)
        layout.addLayout(status)
        self.kind.activated.connect(lambda _: self._filter_chosen())
        self.hardness.activated.connect(lambda _: self._filter_chosen())
        self.search.textChanged.connect(self._search_changed)
        self.show_all.clicked.connect(self.clear_filters)
        self.table.selectionModel().currentRowChanged.connect(self._row_changed)
        session.results_changed.connect(self.reload)
        session.filter_changed.connect(self._filter_from_session)
        session.dataset_changed.connect(self.reload)
        session.question_selected.connect(self._select)
        self.reload()

    def set_baseline(self, baseline: Arm | None) -> None:
        self.baseline = baseline
        self.reload()

    def _filters(self) -> list[QuestionFilter]:
        out = [QuestionFilter("all"), QuestionFilter("disagree")]
        for name in self.session.results.variants:
            out += [QuestionFilter("wrong", name), QuestionFilter("right", name), QuestionFilter("failed", name)]
        for name, comparison in self.current.against(self.baseline).items():
            out += [comparison_filter(name, comparison, kind) for kind in ("fixed", "broken")]
        return out

    def _fill_kinds(self) -> list[QuestionFilter]:
        levels = ["any hardness", *self.session.results.hardness_levels]  # the dataset's (BIRD's three, ...)
        if levels != [self.hardness.itemText(i) for i in range(self.hardness.count())]:
            self.hardness.blockSignals(True)
            self.hardness.clear()
            self.hardness.addItems(levels)
            self.hardness.blockSignals(False)
        filters = self._filters()
        wanted = [f.describe() for f in filters]
        if wanted != [self.kind.itemText(i) for i in range(self.kind.count())]:
            self.kind.blockSignals(True)
            self.kind.clear()
            self.kind.addItems(wanted)
            self.kind.blockSignals(False)
        shown = self.session.question_filter
        current = QuestionFilter(shown.kind, shown.variant, label=shown.label)
        if current.kind in ("all", "disagree"):
            current = QuestionFilter(current.kind)
        self.kind.setCurrentText(current.describe())
        self.hardness.setCurrentText(self.session.question_filter.hardness or "any hardness")
        return filters

    def _filter_chosen(self) -> None:
        base = self._filters()[max(0, self.kind.currentIndex())]
        hardness = self.hardness.currentText()
        self.session.set_filter(replace(base, hardness=None if hardness == "any hardness" else hardness))

    def _filter_from_session(self) -> None:
        self.reload()

    def clear_filters(self) -> None:
        """Every question again: no filter, no search."""
        self.search.clear()
        self.session.set_filter(QuestionFilter("all"))

    def _search_changed(self, text: str) -> None:
        self.model.search = text.strip()
        self.reload()

    def reload(self) -> None:
        filters = self._fill_kinds()
        shown = self.session.question_filter
        for f in filters:  # a fixed/broken list follows the run's answers as they come in
            if f.kind == shown.kind == "listed" and f.label == shown.label and f.items != shown.items:
                self.session.set_filter(replace(f, hardness=shown.hardness))  # reloads again
                return
        self.model.reload()
        total = len(self.session.items)
        hidden_all = total > 0 and not self.model.rows
        searched = f" matching {self.model.search!r}" if self.model.search else ""
        self.count.setText(
            f"{len(self.model.rows)} of {total} questions · {self.session.question_filter.describe()}{searched}"
            + (" · no question matches" if hidden_all else "")
        )
        self.show_all.setVisible(hidden_all)
        if self.model.rows and self.model.row_of(self.session.current_index) is None:
            self.session.select_question(self.model.rows[0])  # the outputs follow the list: never a hidden question
        self._select(self.session.current_index)
        if self.table.horizontalHeader().count() != self._sized_columns:
            self._size_columns()

    def _size_columns(self) -> None:
        """Fixed widths, set once per column layout: measuring contents on every update would stall."""
        header = self.table.horizontalHeader()
        header.setTextElideMode(Qt.TextElideMode.ElideRight)  # a variant's full name is in its tooltip
        widths = {0: 40, 1: 70, 2: 60}
        for column in range(self.model.columnCount()):
            if column == 3:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            else:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
                header.resizeSection(column, widths.get(column, VERDICT_WIDTH))
        saved = self.column_widths.get(self._layout_key())
        for column, width in enumerate(saved or []):
            if column != 3 and column < header.count():
                header.resizeSection(column, width)
        self._sized_columns = header.count()

    def _layout_key(self) -> str:
        return f"{len(FIXED)}+{len(self.model.variants)}"

    def restore_widths(self, widths: dict[str, list[int]]) -> None:
        self.column_widths = dict(widths)
        self._sized_columns = -1
        self.reload()

    def remember_widths(self) -> dict[str, list[int]]:
        """The columns' widths as the user left them, per column layout (the window keeps them across restarts)."""
        header = self.table.horizontalHeader()
        self.column_widths[self._layout_key()] = [header.sectionSize(c) for c in range(header.count())]
        return self.column_widths

    def _select(self, index: int | None) -> None:
        row = self.model.row_of(index)
        if row is None:
            return
        if self.table.currentIndex().row() != row:
            self.table.selectRow(row)
            self.table.scrollTo(self.model.index(row, 0))

    def _dispute_target(self) -> tuple[int | None, str | None]:
        """The selected question, and the variant whose column the current cell is in (if it is one)."""
        column = self.table.currentIndex().column()
        variants = self.model.variants
        chosen = variants[column - len(FIXED)] if len(FIXED) <= column < len(FIXED) + len(variants) else None
        return self.session.current_index, chosen

    def _row_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid() and current.row() < len(self.model.rows):
            self.session.select_question(self.model.rows[current.row()])
