"""The Accuracy pane: a live table of variants x figures, and a paired comparison of two variants.

TS % (test-suite accuracy) is shown beside EX % whenever a run's items were scored on a test suite.
A pinned baseline (any variant of a run on the same dataset split, kept in the UI settings across
restarts) is shown as the table's last row; every variant's row then has its Δ EX against it,
with the paired 95% interval, and its fixed and broken counts (``experiments.compare``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QColor, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workbench.core.reports.experiments import Arm, ArmComparison, ArmError, load_arm
from workbench.core.reports.markdown import markdown_table
from workbench.core.reports.overrides import Overrides
from workbench.core.reports.results import QuestionFilter
from workbench.core.reports.summaries import VariantSummary
from workbench.core.scoring.exact import HARDNESS_LEVELS
from workbench.core.store import RunInfo
from workbench.ui.baseline_arms import CurrentArms, baseline_comparisons, comparison_filter
from workbench.ui.session import AppSession

# what changed against the baseline comes right after EX, so a comparison needs no sideways scrolling
COLUMNS = ("variant", "n", "EX %", "95% CI", "Δ EX vs baseline", "fixed", "broken", "prompt", "model", "TS %",
           "EX (overrides)", "EM %", *HARDNESS_LEVELS, "failed", "tokens", "cost $", "p50 ms")  # fmt: skip
BASELINE_COLUMNS = ("Δ EX vs baseline", "fixed", "broken")
COPY_ROW_SHORTCUT, COPY_TABLE_SHORTCUT = "Ctrl+Shift+C", "Ctrl+Alt+C"
BASELINE_SETTING = "accuracy/baseline"  # "RUN_ID:VARIANT" of the pinned baseline
SOFT_F1 = "Soft-F1 %"  # in place of "EM %" for a BIRD dataset
_Index = QModelIndex | QPersistentModelIndex


def _pct(value: float) -> str:
    return f"{100 * value:.1f}"


def comparison_text(c: ArmComparison | None, column: str) -> str:
    """A variant's figures against the baseline; "–" without one (or on another split)."""
    if c is None:
        return "–"
    if column == "fixed":
        return str(len(c.fixed))
    if column == "broken":
        return str(len(c.broken))
    low, high = c.paired.difference_interval
    return f"{100 * c.paired.difference:+.1f} ({100 * low:+.1f} to {100 * high:+.1f})"


def columns_for(levels: Sequence[str], bird: bool) -> tuple[str, ...]:
    """The table's columns for a dataset: its hardness levels, and BIRD's Soft-F1 where exact match does not apply."""
    first, rest = COLUMNS[: COLUMNS.index("EM %")], COLUMNS[COLUMNS.index("failed") :]
    return (*first, SOFT_F1 if bird else "EM %", *levels, *rest)


def cell_text(s: VariantSummary, column: str) -> str:
    if column in s.by_hardness:
        right, n = s.by_hardness[column]
        return f"{_pct(right / n)} ({n})" if n else "–"
    lo, hi = s.interval
    values: dict[str, str] = {
        "variant": s.variant,
        "model": s.model,
        "n": str(s.completed),
        "EX %": _pct(s.execution_accuracy) if s.completed else "–",
        "95% CI": f"{_pct(lo)}–{_pct(hi)}" if s.completed else "–",
        "TS %": _pct(s.test_suite_accuracy) if s.ts_n else "–",
        "EX (overrides)": f"{_pct(s.override_accuracy)} ({s.override_n})" if s.override_n else "–",
        "EM %": _pct(s.exact_accuracy) if s.completed else "–",
        SOFT_F1: "–" if s.soft_f1 is None else _pct(s.soft_f1),
        "failed": str(s.failed),
        "tokens": f"{s.prompt_tokens + s.completion_tokens:,}",
        "cost $": f"{s.cost:.4f}",
        "p50 ms": latency_text(s),
    }
    return values.get(column, "–")


def latency_text(s: VariantSummary) -> str:
    """p50 as measured in this run, else (every answer from the cache) as measured when first asked."""
    p50, cached = s.latency_ms(50), s.cached_latency_ms(50)
    if p50 is not None:
        return f"{p50:.0f}"
    return "–" if cached is None else f"{cached:.0f} (cached)"


class AccuracyModel(QAbstractTableModel):
    """Rows are variants; the figures come from core summaries, refreshed on coalesced updates."""

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.summaries: list[VariantSummary] = []
        self.columns = COLUMNS  # the open dataset's (columns_for)
        self.exact_na = False  # the dataset's engine is not SQLite: exact-set match does not apply
        self.baseline: Arm | None = None
        self.beside: list[Arm] = []  # other runs' arms shown beside this run's (the Runs pane's "Show together")
        self.comparisons: dict[str, ArmComparison] = {}
        self.prompts: dict[str, str] = {}  # row's variant -> its template and per-template version
        self.current = CurrentArms(session)
        session.results_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        fresh = list(self.session.results.summaries())
        arms, base = self.current.arms(), self.baseline
        self.comparisons = dict(self.current.against(base))
        self.prompts = {n: _prompt(a) for n, a in arms.items()}
        levels = self.session.results.hardness_levels
        if base is not None:
            summary = VariantSummary(f"baseline {base.name}", base.spec.model, by_hardness={h: [0, 0] for h in levels})
            overrides = Overrides.of(self.session.store.disputes(base.run.dataset_root, base.run.split))
            for row in base.rows.values():
                summary.add(row, overrides)
            fresh.append(summary)
            self.prompts[summary.variant] = _prompt(base)
        for arm in self.beside:  # other runs' arms, each against the baseline like this run's
            summary = VariantSummary(f"beside {arm.name}", arm.spec.model,
                                     by_hardness={h: [0, 0] for h in levels})  # fmt: skip
            for row in arm.rows.values():
                summary.add(row)
            fresh.append(summary)
            self.prompts[summary.variant] = _prompt(arm)
            self.comparisons.update(baseline_comparisons(base, {summary.variant: arm}))
        dataset = self.session.dataset
        columns = columns_for(levels, dataset is not None and dataset.bird_metrics)
        self.exact_na = dataset is not None and dataset.engine != "sqlite"
        if [s.variant for s in fresh] != [s.variant for s in self.summaries] or columns != self.columns:
            self.beginResetModel()
            self.summaries, self.columns = fresh, columns
            self.endResetModel()
            return
        self.summaries = fresh
        if fresh:
            self.dataChanged.emit(self.index(0, 0), self.index(len(fresh) - 1, len(self.columns) - 1))

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.summaries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Vertical and section < len(self.summaries):  # the frozen variant column
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                return self.summaries[section].variant
            return None
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section]
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.ToolTipRole:
            column = self.columns[section]
            if column in self.session.results.hardness_levels:
                return f"execution accuracy on {column} questions (count); click to list them"
            return {"EX %": "execution accuracy; click to list the wrong answers",
                    "EM %": "exact-set match (Spider; SQLite only: n/a on DuckDB and PostgreSQL)",
                    SOFT_F1: "BIRD's Soft-F1 (cells matched per row); exact-set match does not apply to BIRD",
                    "95% CI": "Wilson interval of execution accuracy",
                    "TS %": "test-suite accuracy: right on every database of the suite (shown when there is one)",
                    "EX (overrides)": "EX with the split's gold disputes applied (items with wrong or ambiguous "
                                      "gold left out; predictions marked also correct count as right), on (n) items",
                    "prompt": "the template and its version (numbered within the template)",
                    "Δ EX vs baseline": "EX minus the pinned baseline's on the items both answered (paired 95% CI)",
                    "fixed": "right here, wrong in the baseline; click to list them",
                    "broken": "wrong here, right in the baseline; click to list them"}.get(column)  # fmt: skip
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        summary, column = self.summaries[index.row()], self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "prompt":
                return self.prompts.get(summary.variant, "")
            if column in BASELINE_COLUMNS:
                return comparison_text(self.comparisons.get(summary.variant), column)
            return "n/a" if column == "EM %" and self.exact_na else cell_text(summary, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() >= 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == "failed" and summary.failed:
            return QColor("#a4500b")
        return None

    def filter_for(self, row: int, column: int) -> QuestionFilter:
        """What clicking a cell lists: a hardness column lists that level; others the variant's misses."""
        variant = self.summaries[row].variant
        if variant not in self.session.results.variants:  # the baseline's row: its questions are another run's
            return QuestionFilter("all")
        comparison = self.comparisons.get(variant)
        name = self.columns[column]
        if name in ("fixed", "broken") and comparison is not None:
            return comparison_filter(variant, comparison, name)
        if name in self.session.results.hardness_levels:
            return QuestionFilter("all", variant, name)
        if name == "failed":
            return QuestionFilter("failed", variant)
        return QuestionFilter("wrong", variant)


def _prompt(arm: Arm) -> str:
    return f"{arm.spec.template} {arm.spec.version}" if arm.spec.template else "plain prompt"


class AccuracyPane(QWidget):
    comparison_changed = Signal(str)
    baseline_changed = Signal(object)  # the pinned baseline's Arm, or None

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.model = AccuracyModel(session)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectItems)
        # the variant's name is the row header: it stays in view when the table scrolls sideways
        self.table.verticalHeader().setVisible(True)
        self.table.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setColumnHidden(0, True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setToolTip("Click a cell to list its questions")
        self.copy_row_action = self._table_action("Copy row as Markdown", COPY_ROW_SHORTCUT, self.copy_row)
        self.copy_table_action = self._table_action("Copy table as Markdown", COPY_TABLE_SHORTCUT, self.copy_table)
        self.first = QComboBox()
        self.second = QComboBox()
        self.comparison = QLabel()
        self.comparison.setWordWrap(True)
        self.pin_button = QPushButton("Pin as baseline")
        self.pin_button.setToolTip("Compare every later run with the selected variant of this run")
        self.unpin_button = QPushButton("Unpin")
        self.settings = QSettings(str(session.paths.ui_settings), QSettings.Format.IniFormat)
        pair = QHBoxLayout()
        pair.addWidget(QLabel("Compare"))
        pair.addWidget(self.first)
        pair.addWidget(QLabel("with"))
        pair.addWidget(self.second)
        pair.addStretch(1)
        pair.addWidget(self.pin_button)
        pair.addWidget(self.unpin_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(pair)
        layout.addWidget(self.comparison)  # the whole pane's width: two or three lines, not a column of words
        self.table.clicked.connect(self._cell_clicked)
        self.first.currentIndexChanged.connect(lambda _: self.update_comparison())
        self.second.currentIndexChanged.connect(lambda _: self.update_comparison())
        self.pin_button.clicked.connect(self.pin_selected)
        self.unpin_button.clicked.connect(lambda: self.pin(None))
        session.results_changed.connect(self._results_changed)
        session.run_state_changed.connect(lambda _: self._load_baseline())
        self._load_baseline()
        self._results_changed()

    # --- copying ----------------------------------------------------------------------
    def _table_action(self, text: str, shortcut: str, slot: Callable[[], str]) -> QAction:
        action = QAction(text, self.table)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda _=False: slot())
        self.table.addAction(action)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        return action

    def _markdown(self, rows: list[int]) -> str:
        """The shown columns (the variant first) of ``rows``, as a Markdown table."""
        model = self.model
        columns = [c for c in range(model.columnCount()) if c == 0 or not self.table.isColumnHidden(c)]
        return markdown_table([model.columns[c] for c in columns],
                              [[model.index(r, c).data() for c in columns] for r in rows])  # fmt: skip

    def copy_row(self) -> str:
        """The selected variant's row (header included), as Markdown, to the clipboard."""
        row = self.table.currentIndex().row()
        text = self._markdown([row]) if 0 <= row < self.model.rowCount() else ""
        if text:
            QGuiApplication.clipboard().setText(text)
        return text

    def copy_table(self) -> str:
        text = self._markdown(list(range(self.model.rowCount())))
        QGuiApplication.clipboard().setText(text)
        return text

    # --- the baseline -----------------------------------------------------------------
    def _load_baseline(self) -> None:
        """The pinned arm, read again from the store (a finished run's rows are final there)."""
        text = str(self.settings.value(BASELINE_SETTING, "") or "")
        try:
            self.model.baseline = load_arm(self.session.store, text) if text else None
        except ArmError:  # its run is not in this store (any more)
            self.model.baseline = None
        self.unpin_button.setEnabled(self.model.baseline is not None)
        self.model.refresh()
        self.baseline_changed.emit(self.model.baseline)

    def pin(self, variant: str | None, run: RunInfo | None = None) -> None:
        """Pin ``variant`` of ``run`` (default: the current run) as the baseline (None: unpin); kept across restarts."""
        info = run or self.session.run_info
        if variant is None or info is None:
            self.settings.remove(BASELINE_SETTING)
        else:
            self.settings.setValue(BASELINE_SETTING, f"{info.id}:{variant}")
        self.settings.sync()
        self._load_baseline()

    def show_beside(self, arms: list[Arm]) -> None:
        """Show these arms of other runs as rows below this run's, each against the baseline (empty: none)."""
        self.model.beside = list(arms)
        self.model.refresh()

    def pin_selected(self) -> None:
        index = self.table.currentIndex()
        row = index.row() if index.isValid() else 0
        if 0 <= row < len(self.model.summaries) and self.model.summaries[row].variant in self.session.results.variants:
            self.pin(self.model.summaries[row].variant)

    def _cell_clicked(self, index: QModelIndex) -> None:
        self.session.set_filter(self.model.filter_for(index.row(), index.column()))

    def _results_changed(self) -> None:
        suite = any(s.has_test_suite for s in self.model.summaries)
        self.table.setColumnHidden(COLUMNS.index("TS %"), not suite)  # TS beside EX whenever a suite exists
        self.table.setColumnHidden(0, True)  # the variant is the row header
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
