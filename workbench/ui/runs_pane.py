"""The Runs pane: the history of stored runs on the open dataset, to reopen, pin as baseline and compare.

Every stored run on the open dataset is listed newest first (``core.reports.run_list``), its
variants as child rows. Enter (or Open) shows the run's results as File ▸ Show a stored run does;
Ctrl+B (or Pin as baseline) pins the chosen variant as the baseline the Accuracy pane compares with;
Compare lists the selected variants, from any runs, against the pinned baseline
(``experiments.compare``, on the items both answered); Show together puts them in the Accuracy
pane beside the shown run's. The pane asks; the main window carries out opening, pinning and
showing, so the one pinning code (``AccuracyPane.pin``) is used.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.reports.experiments import Arm, ArmComparison, ArmError, compare, run_arm
from workbench.core.reports.run_list import ArmRow, ReadRuns, RunRow, run_list
from workbench.ui.runs_model import COLUMNS, ArmKey, RunsModel
from workbench.ui.session import AppSession

COLUMN_WIDTHS = {"run": 190, "date (UTC)": 120, "split": 60, "answered": 100, "state": 90, "model": 130,
                 "prompt": 120, "retrieval": 100, "EX %": 60, "95% CI": 100, "cost $": 70}  # fmt: skip
COMPARISON_COLUMNS = ("variant", "prompt", "common items", "EX baseline %", "EX %", "Δ EX (95% CI)", "fixed",
                      "broken", "McNemar p")  # fmt: skip


def comparison_cells(c: ArmComparison) -> list[str]:
    p = c.paired
    low, high = p.difference_interval
    return [c.contender.name, f"{c.contender.spec.template} {c.contender.spec.version}".strip() or "plain prompt",
            str(c.n_common), f"{100 * p.first_accuracy:.1f}", f"{100 * p.second_accuracy:.1f}",
            f"{100 * p.difference:+.1f} ({100 * low:+.1f} to {100 * high:+.1f})", str(len(c.fixed)),
            str(len(c.broken)), f"{p.p_value:.3g}"]  # fmt: skip


class RunsPane(QWidget):
    open_requested = Signal(object)  # the RunInfo to show
    pin_requested = Signal(object, str)  # the RunInfo and the variant to pin as the baseline
    beside_requested = Signal(list)  # Arms of other runs to show beside the shown run's ([]: none)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.baseline: Arm | None = None
        self.comparisons: list[ArmComparison] = []
        self.read_runs: ReadRuns = {}  # finished runs' figures, read once
        self.model = RunsModel()
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setUniformRowHeights(True)
        self.tree.setAllColumnsShowFocus(True)
        header = self.tree.header()  # fixed widths: fitting the contents measures every row (seconds at 500 runs)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, name in enumerate(COLUMNS):
            header.resizeSection(column, COLUMN_WIDTHS.get(name, 80))
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.setToolTip("Enter opens a run; Ctrl+B pins the variant as the baseline")
        self.open_button = QPushButton("Open")
        self.open_button.setToolTip("Show this run's results (Enter)")
        self.pin_button = QPushButton("Pin as baseline")
        self.pin_button.setToolTip("Compare every run with this variant (Ctrl+B)")
        self.compare_button = QPushButton("Compare with baseline")
        self.compare_button.setToolTip("The selected variants, from any runs, against the pinned baseline")
        self.together_button = QPushButton("Show together")
        self.together_button.setToolTip("Show the selected variants in the Accuracy pane beside this run's "
                                        "(nothing selected: stop showing them)")  # fmt: skip
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.table = QTableWidget(0, len(COMPARISON_COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COMPARISON_COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        buttons = QHBoxLayout()
        for button in (self.open_button, self.pin_button, self.compare_button, self.together_button):
            buttons.addWidget(button)
        buttons.addWidget(self.note, 1)
        lower = QWidget()
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addLayout(buttons)
        lower_layout.addWidget(self.table, 1)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.tree)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([300, 200])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.open_button.clicked.connect(self.open_current)
        self.pin_button.clicked.connect(self.pin_current)
        self.compare_button.clicked.connect(self.compare_selected)
        self.together_button.clicked.connect(self.show_selected_together)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        self.tree.doubleClicked.connect(lambda _: self.open_current())
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            enter = QShortcut(QKeySequence(key), self.tree)
            enter.setContext(Qt.ShortcutContext.WidgetShortcut)
            enter.activated.connect(self.open_current)
        pin = QShortcut(QKeySequence("Ctrl+B"), self)
        pin.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        pin.activated.connect(self.pin_current)
        session.run_state_changed.connect(self._state_changed)
        session.dataset_changed.connect(self._dataset_changed)
        self.refresh()

    # --- the list -----------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the runs on the open dataset again; the current row and expansions follow the same runs."""
        dataset = self.session.dataset
        current = self._key(self.tree.currentIndex())
        self.model.set_runs(
            run_list(self.session.store, dataset, self.read_runs, {self.session.split: len(self.session.items)})
            if dataset is not None
            else []
        )
        self.tree.expandAll()
        if current is not None:
            index = self.model.arm_index(*current)
            if index.isValid():
                self.tree.setCurrentIndex(index)
        self._say()

    def _dataset_changed(self) -> None:
        self.refresh()
        self.beside_requested.emit([])  # arms shown beside were on the dataset before

    def _state_changed(self, state: str) -> None:
        if state != "paused":  # a run started (it is listed as running) or ended (its figures are final)
            self.refresh()

    def set_baseline(self, baseline: Arm | None) -> None:
        self.baseline = baseline
        self.model.set_baseline(None if baseline is None else (baseline.run.id, baseline.variant))
        self._say()

    def _say(self) -> None:
        n = len(self.model.runs)
        base = f"baseline: {self.baseline.name}" if self.baseline else "no baseline pinned"
        self.note.setText(f"{n} run{'s' if n != 1 else ''} on this dataset · {base}")

    def _key(self, index: QModelIndex) -> ArmKey | None:
        run, arm = self.model.run_at(index), self.model.arm_at(index)
        return None if run is None or arm is None else (run.info.id, arm.variant)

    def selected_arms(self) -> list[tuple[RunRow, ArmRow]]:
        """The selected variants, in the list's order; a selected run's row stands for all its variants."""
        chosen: list[tuple[RunRow, ArmRow]] = []
        for index in sorted(self.tree.selectionModel().selectedRows(0), key=self._order):
            run, arm = self.model.run_at(index), self.model.arm_at(index)
            if run is None:
                continue
            for one in [arm] if arm is not None else run.arms:
                if all((r.info.id, a.variant) != (run.info.id, one.variant) for r, a in chosen):
                    chosen.append((run, one))
        return chosen

    def _order(self, index: QModelIndex) -> tuple[int, int]:
        parent = index.parent()
        return (parent.row(), index.row() + 1) if parent.isValid() else (index.row(), 0)

    # --- what the user asks -------------------------------------------------------------
    def open_current(self) -> None:
        run = self.model.run_at(self.tree.currentIndex())
        if run is not None:
            self.open_requested.emit(run.info)

    def pin_current(self) -> None:
        index = self.tree.currentIndex()
        run, arm = self.model.run_at(index), self.model.arm_at(index)
        if run is None:
            return
        if arm is None and len(run.arms) != 1:
            self.note.setText(f"#{run.info.id} has {len(run.arms)} variants: choose the one to pin")
            return
        self.pin_requested.emit(run.info, (arm or run.arms[0]).variant)

    def compare_selected(self) -> None:
        """The selected variants against the pinned baseline, in the table below the list."""
        self.comparisons = []
        self.table.setRowCount(0)
        if self.baseline is None:
            self.note.setText("Pin a baseline first (Ctrl+B on a variant), then compare variants with it")
            return
        skipped = []
        for run, arm in self.selected_arms():
            try:
                contender = run_arm(self.session.store, run.info, arm.variant)
            except ArmError:
                continue
            comparison = compare(self.baseline, contender)
            if not comparison.same_split:
                skipped.append(contender.name)
                continue
            self.comparisons.append(comparison)
        self.table.setRowCount(len(self.comparisons))
        for row, comparison in enumerate(self.comparisons):
            for column, text in enumerate(comparison_cells(comparison)):
                item = QTableWidgetItem(text)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
        other = f"; not on the baseline's split: {', '.join(skipped)}" if skipped else ""
        self.note.setText(f"{len(self.comparisons)} compared with the baseline {self.baseline.name}, each on the "
                          f"items both answered{other}")  # fmt: skip

    def show_selected_together(self) -> None:
        """The selected variants of other runs (not the shown run's, not the baseline) beside the shown run's."""
        shown = self.session.run_info
        arms = []
        for run, arm in self.selected_arms():
            if (shown is not None and run.info.id == shown.id) or self.model.baseline == (run.info.id, arm.variant):
                continue
            try:
                arms.append(run_arm(self.session.store, run.info, arm.variant))
            except ArmError:
                continue
        self.beside_requested.emit(arms)
        self.note.setText(f"beside this run in the Accuracy pane: {', '.join(a.name for a in arms)}" if arms
                          else "nothing from other runs shown beside this run")  # fmt: skip

    def _context_menu(self, pos: QPoint) -> None:
        if not self.model.run_at(self.tree.indexAt(pos)):
            return
        menu = QMenu(self)
        menu.addAction("Open", self.open_current)
        menu.addAction("Pin as baseline", self.pin_current)
        menu.addAction("Compare selected with baseline", self.compare_selected)
        menu.addAction("Show selected together", self.show_selected_together)
        menu.popup(self.tree.viewport().mapToGlobal(pos))
