"""The Outputs pane: the selected question answered side by side by every variant of the run (and the baseline)."""

from __future__ import annotations

import asyncio
import html

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from workbench.core.engines.base import DatabaseRef
from workbench.core.reports.answers import ResultGrid, result_grid, sql_diff
from workbench.core.reports.experiments import Arm
from workbench.core.reports.results import QuestionFilter, row_state
from workbench.core.sandbox.bounded_pool import WorkerKilled
from workbench.core.store import ScoreRow
from workbench.ui.dispute_dialog import DisputeActions
from workbench.ui.highlighters import SqlHighlighter
from workbench.ui.session import AppSession

GRID_ROWS = 50
CARD_MIN_WIDTH = 150
COPY_SQL_SHORTCUT = "Ctrl+Shift+C"
ASK_AGAIN_SHORTCUT = "Ctrl+Alt+R"
DIFF_STYLE = {
    "same": "{}",
    "added": "<span style='background:#d9f2d9; color:#1d6b1d'>{}</span>",
    "removed": "<span style='background:#f8dada; color:#9b1c1c; text-decoration:line-through'>{}</span>",
}


def diff_html(gold: str, predicted: str) -> str:
    pieces = sql_diff(gold, predicted)
    parts = [DIFF_STYLE[p.kind].format(html.escape(p.text)) + (" " if p.kind == "removed" else "") for p in pieces]
    return "".join(parts).replace("\n", "<br>")


VERDICT_LOOKS = {  # ``RunResults.answer_state`` -> (label, colour)
    "": ("not answered yet", "#777777"),
    "failed": ("failed", "#a4500b"),
    "unscorable": ("unscorable", "#777777"),
    "right": ("✓ correct", "#2d7d2d"),
    "wrong": ("✗ wrong", "#9b1c1c"),
}


def verdict_text(row: ScoreRow | None) -> tuple[str, str]:
    """(label, colour) for an outcome."""
    return VERDICT_LOOKS["" if row is None else row_state(row)]


class GridView(QTableWidget):
    def __init__(self) -> None:
        super().__init__()
        self.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.setMinimumHeight(90)
        self.caption = QLabel()

    def show_grid(self, grid: ResultGrid | None) -> None:
        self.clear()
        if grid is None:
            self.setRowCount(0)
            self.setColumnCount(0)
            self.caption.setText("running the query …")
            return
        self.caption.setText(grid.summary)
        self.setColumnCount(len(grid.columns))
        self.setHorizontalHeaderLabels(grid.columns)
        rows = grid.rows[:GRID_ROWS]
        self.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                self.setItem(r, c, QTableWidgetItem("NULL" if value is None else str(value)))
        self.resizeColumnsToContents()


class AnswerCard(QFrame):
    """One variant's answer: verdict, reason, SQL with its diff to gold, result grid, cost."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(CARD_MIN_WIDTH)  # the cards share the pane's width; below this they scroll
        self.title = QLabel(f"<b>{html.escape(title)}</b>")
        self.title.setToolTip(title)
        self.title.setWordWrap(True)  # a long variant name wraps; the verdict beside it stays in view
        self.verdict = QLabel()
        self.reason = QLabel()
        self.reason.setWordWrap(True)
        self.reason.setTextFormat(Qt.TextFormat.PlainText)  # model output and error text, shown as written
        self.sql = QTextBrowser()
        self.sql.setMaximumHeight(110)
        self.highlighter = SqlHighlighter(self.sql.document())
        self.grid = GridView()
        self.metrics = QLabel()  # latency, tokens and cost, in the card's header: never scrolled away
        self.metrics.setWordWrap(True)
        self.metrics.setStyleSheet("color: #555555")
        self.disputes: DisputeActions | None = None  # "Dispute…" on this answer (set by the pane)
        self.sql_text = ""  # the answer's SQL as given, for Copy SQL
        self.copy_action = QAction("Copy SQL", self)
        self.copy_action.setShortcut(QKeySequence(COPY_SQL_SHORTCUT))
        self.copy_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.copy_action.triggered.connect(lambda _=False: QGuiApplication.clipboard().setText(self.sql_text))
        self.addAction(self.copy_action)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.verdict)
        layout.addLayout(head)
        layout.addWidget(self.metrics)
        layout.addWidget(self.reason)
        layout.addWidget(self.sql)
        layout.addWidget(self.grid.caption)
        layout.addWidget(self.grid, 1)

    def show_row(self, row: ScoreRow | None, gold: str) -> None:
        label, colour = verdict_text(row)
        self.verdict.setText(f"<b style='color:{colour}'>{label}</b>")
        self.reason.setText(row.reason if row else "")
        sql = (row.predicted_sql or "") if row else ""
        self.sql_text = sql
        self.copy_action.setEnabled(bool(sql))
        if sql:
            self.sql.setHtml(f"<div style='font-family:monospace; white-space:pre-wrap'>{diff_html(gold, sql)}</div>")
        else:
            self.sql.setHtml("<i>no SQL</i>")
        if row is None or row.status == "failed":
            self.metrics.setText("")
        else:
            latency = "cached" if row.cached else f"{(row.latency_ms or 0):.0f} ms"
            self.metrics.setText(f"{latency} · {row.prompt_tokens}+{row.completion_tokens} tokens · ${row.cost:.5f}")


class OutputsPane(QWidget):
    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.header = QLabel()
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.prev_button = QPushButton("◀ Previous")
        self.next_button = QPushButton("Next ▶")
        self.next_wrong_button = QPushButton("Next wrong ▶▶")
        self.again_button = QPushButton("Ask again")
        for button, tip in (
            (self.prev_button, "Previous question in the list (Ctrl+[)"),
            (self.next_button, "Next question in the list (Ctrl+])"),
            (self.next_wrong_button, "Next question that some variant got wrong (F8)"),
            (
                self.again_button,
                f"Ask this question again, past the cache, for every variant ({ASK_AGAIN_SHORTCUT}); "
                "one variant: its answer's context menu",
            ),
        ):
            button.setToolTip(tip)
        nav = QHBoxLayout()
        nav.addWidget(self.header, 1)
        nav.addWidget(self.prev_button)
        nav.addWidget(self.next_button)
        nav.addWidget(self.next_wrong_button)
        nav.addWidget(self.again_button)
        self.gold = AnswerCard("gold")
        self.gold.disputes = DisputeActions(session, self.gold, lambda: (session.current_index, None))
        self.gold_overlay = self.gold.disputes.overlay
        self.cards_box = QWidget()
        self.cards_layout = QHBoxLayout(self.cards_box)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.addWidget(self.gold)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.cards_box)
        layout = QVBoxLayout(self)
        layout.addLayout(nav)
        layout.addWidget(scroll, 1)
        self.cards: dict[str, AnswerCard] = {}
        self.baseline: Arm | None = None  # the pinned baseline (accuracy pane): its answer is shown last
        self._generation = 0
        self._shown: tuple[object, ...] = ()
        self._grid_tasks: set[asyncio.Task[None]] = set()
        self.prev_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.next_wrong_button.clicked.connect(self.next_wrong)
        self.again_button.clicked.connect(lambda: self.ask_again())
        session.question_selected.connect(lambda _: self.refresh(force=True))
        session.results_changed.connect(self.refresh)
        session.dataset_changed.connect(lambda: self.refresh(force=True))

    def variant_names(self) -> list[str]:
        return self.session.results.variants or [s.name for s in self.session.specs]

    def set_baseline(self, arm: Arm | None) -> None:
        self.baseline = arm
        self.refresh(force=True)

    def _baseline_here(self) -> Arm | None:
        """The baseline when it ran on the open split (its items are this split's)."""
        arm, dataset = self.baseline, self.session.dataset
        if arm is None or dataset is None:
            return None
        return arm if (arm.run.dataset_root, arm.run.split) == (dataset.identity[0], self.session.split) else None

    def _ensure_cards(self, names: list[str], models: dict[str, str]) -> None:
        if list(self.cards) == names:
            return
        for card in self.cards.values():
            card.setParent(None)
            card.deleteLater()
        self.cards = {}
        for name in names:
            model = models.get(name, "")
            card = AnswerCard(f"{name}" + (f"  ·  {model}" if model else ""))
            card.disputes = DisputeActions(self.session, card, lambda name=name: (self.session.current_index, name))
            if name in self.session.results.variants:  # this run's, not the baseline's
                again = QAction("Ask this question again", card)
                again.setToolTip("Ask again past the response cache; the new answer replaces this one in the run")
                again.triggered.connect(lambda _=False, name=name: self.ask_again([name]))
                card.addAction(again)
            self.cards_layout.addWidget(card)
            self.cards[name] = card

    def ask_again(self, names: list[str] | None = None) -> asyncio.Task[None] | None:
        """The shown question asked once more by ``names`` (default: every variant of the run)."""
        index = self.session.current_index
        if index is None:
            return None
        task = self.session.ask_again(index, names or list(self.session.results.variants))
        if task is None:
            self.session.message.emit("asking again needs a stored run that is not running (run it first)")
        return task

    def refresh(self, force: bool = False) -> None:
        session, index = self.session, self.session.current_index
        item = session.item(index) if index is not None else None
        names, models, base = self.variant_names(), dict(session.results.models), self._baseline_here()
        rows = [session.results.outcome(n, index) for n in names] if index is not None else []
        if base is not None:
            names, models[f"baseline {base.name}"] = [*names, f"baseline {base.name}"], base.spec.model
            rows += [base.rows.get(index)] if index is not None else []
        known = (session.results.hardness(index), tuple(self.gold_overlay.notes(index))) if index is not None else ()
        signature = (index, tuple(names), tuple(rows), known)
        if not force and signature == self._shown:
            return  # coalesced updates that did not touch this question
        self._shown = signature
        self._ensure_cards(names, models)
        if item is None or session.dataset is None:
            self.header.setText("<i>Select a question.</i>")
            return
        hardness = session.results.hardness(item.index) or "?"
        self.header.setText(
            f"<b>#{item.index}</b> [{html.escape(item.db_id)}, {hardness}] {html.escape(item.question)}"
        )
        self._generation += 1
        database = session.dataset.database(item.db_id)
        self.gold.verdict.setText("<span style='color:#555555'>reference</span>")
        self.gold.reason.setText("\n".join(self.gold_overlay.notes(item.index)))  # disputes, gold problems
        self.gold.sql.setHtml(f"<div style='font-family:monospace'>{html.escape(item.query)}</div>")
        self.gold.sql_text = item.query
        self.gold.copy_action.setEnabled(True)
        self._grid_later(self.gold.grid, database, item.query)
        for name, row in zip(names, rows, strict=True):
            card = self.cards[name]
            card.show_row(row, item.query)
            sql = row.predicted_sql if row is not None else None
            if sql:
                self._grid_later(card.grid, database, sql)
            else:
                card.grid.show_grid(ResultGrid([], [], 0, "no result"))

    def _grid_later(self, view: GridView, database: DatabaseRef, sql: str) -> None:
        """Run the query off the event loop; drop the grid if the selection moved on meanwhile."""
        view.show_grid(None)
        generation = self._generation

        async def fill() -> None:
            if self.session.closed:  # the app is closing: its workers are going
                return
            pool = await self.session.workers.pool()  # a bounded worker: a hostile query is stopped, not waited for
            try:
                grid = await asyncio.wrap_future(pool.submit(result_grid, database, sql))
            except RuntimeError as exc:  # the pool shut down while this waited: the app is closing
                if "shut down" not in str(exc):
                    raise
                return
            except WorkerKilled as killed:
                grid = ResultGrid([], [], 0, f"{killed.bound}: {killed.detail}")
            if generation == self._generation:
                view.show_grid(grid)

        task = asyncio.ensure_future(fill())
        self._grid_tasks.add(task)
        task.add_done_callback(self._grid_tasks.discard)

    async def settle(self) -> None:
        """Wait for the result grids being computed (tests and screenshots)."""
        while self._grid_tasks:
            await asyncio.gather(*list(self._grid_tasks), return_exceptions=True)

    # --- navigation ---------------------------------------------------------------------
    def step(self, delta: int) -> None:
        visible = self.session.visible_indices()
        if not visible:
            return
        current = self.session.current_index
        position = visible.index(current) + delta if current in visible else 0
        self.session.select_question(visible[max(0, min(len(visible) - 1, position))])

    def next_wrong(self) -> None:
        session = self.session
        order = [i.index for i in session.items]
        if not order:
            return
        start = order.index(session.current_index) + 1 if session.current_index in order else 0
        wrong = [QuestionFilter("wrong", name) for name in self.variant_names()]
        for index in order[start:] + order[:start]:
            if any(session.results.matches(index, spec) for spec in wrong):
                session.select_question(index)
                return
        session.message.emit("no question that a variant got wrong")
