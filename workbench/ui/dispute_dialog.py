"""Disputing a question's gold: the "Dispute…" dialog and the actions that open it.

``DisputeActions`` puts "Dispute…" (Ctrl+D), "Remove dispute" (Ctrl+Shift+D) and the
undo of the last dispute change (Ctrl+Alt+Z) on a widget, as its context menu and as
shortcuts while it has the focus: the question list, and each answer in the outputs pane.
The dialog offers the three kinds (``store.DISPUTE_KINDS``) and a note; "this prediction is
also correct" names one of the run's predictions for the question, the one whose column or
card was used when there is one. What is chosen goes to the session's ``GoldOverlay``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from workbench.core.data.dataset import Item
from workbench.core.store import DISPUTE_KINDS, DISPUTE_LABELS, Dispute
from workbench.ui.gold_overlay import GoldOverlay
from workbench.ui.session import AppSession

DISPUTE_SHORTCUT = "Ctrl+D"
REMOVE_SHORTCUT = "Ctrl+Shift+D"
UNDO_SHORTCUT = "Ctrl+Alt+Z"
PANE_SHORTCUTS = [  # for the shortcut list (F1): they act in the question list and on an answer
    f"{DISPUTE_SHORTCUT}\tDispute… (question list, answers)",
    f"{REMOVE_SHORTCUT}\tRemove dispute",
    f"{UNDO_SHORTCUT}\tUndo the last dispute change",
]


@dataclass(frozen=True)
class Prediction:
    variant: str
    sql: str
    said_of: str  # "run:variant"


def predictions_of(session: AppSession, index: int) -> list[Prediction]:
    """The shown run's predictions for question ``index``, one per variant that gave SQL."""
    run = session.run_info.name if session.run_info else ""
    out = []
    for name in session.results.variants:
        row = session.results.outcome(name, index)
        if row is not None and (row.predicted_sql or "").strip():
            out.append(Prediction(name, row.predicted_sql or "", f"{run}:{name}" if run else name))
    return out


class DisputeDialog(QDialog):
    def __init__(
        self, parent: QWidget, item: Item, split: str, predictions: list[Prediction], chosen: str | None
    ) -> None:
        super().__init__(parent)
        self.item, self.split, self.predictions = item, split, predictions
        self.setWindowTitle(f"Dispute question #{item.index}")
        question = QLabel(f"#{item.index} [{item.db_id}] {item.question}")
        question.setWordWrap(True)
        question.setTextFormat(Qt.TextFormat.PlainText)
        self.kinds = {kind: QRadioButton(DISPUTE_LABELS[kind]) for kind in DISPUTE_KINDS}
        group = QButtonGroup(self)
        for button in self.kinds.values():
            group.addButton(button)
        self.prediction = QComboBox()
        for p in predictions:
            self.prediction.addItem(f"{p.variant}: {' '.join(p.sql.split())[:90]}")
        names = [p.variant for p in predictions]
        if chosen in names:
            self.prediction.setCurrentIndex(names.index(chosen))
        self.kinds["also_correct"].setEnabled(bool(predictions))
        self.kinds["also_correct" if chosen in names else "gold_wrong"].setChecked(True)
        self.note = QPlainTextEdit()
        self.note.setPlaceholderText("why (kept in the run store, shown in tooltips and reports)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(question)
        for kind, button in self.kinds.items():
            layout.addWidget(button)
            if kind == "also_correct":
                layout.addWidget(self.prediction)
        layout.addWidget(QLabel("Note"))
        layout.addWidget(self.note)
        layout.addWidget(buttons)
        for button in self.kinds.values():
            button.toggled.connect(lambda _: self.prediction.setEnabled(self.kind() == "also_correct"))
        self.prediction.setEnabled(self.kind() == "also_correct")

    def kind(self) -> str:
        return next(kind for kind, button in self.kinds.items() if button.isChecked())

    def dispute(self) -> Dispute:
        note, kind = self.note.toPlainText(), self.kind()
        if kind != "also_correct":
            return Dispute(self.split, self.item.index, kind, note)
        p = self.predictions[self.prediction.currentIndex()]
        return Dispute(self.split, self.item.index, kind, note, p.sql, p.said_of)


class DisputeActions(QObject):
    """The dispute actions on ``widget``; ``target()`` says which question (and which variant's answer) they act on."""

    def __init__(
        self, session: AppSession, widget: QWidget, target: Callable[[], tuple[int | None, str | None]]
    ) -> None:
        super().__init__(widget)
        self.session, self.widget, self.target = session, widget, target
        self.overlay = GoldOverlay.of(session)
        self.dialog: DisputeDialog | None = None
        self.dispute_action = self._action(QAction("Dispute…", widget), DISPUTE_SHORTCUT, self.open_dialog)
        self.remove_action = self._action(QAction("Remove dispute", widget), REMOVE_SHORTCUT, self.remove)
        self.undo_action = self._action(self.overlay.undo_stack.createUndoAction(widget, "Undo"), UNDO_SHORTCUT, None)
        widget.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    def _action(self, action: QAction, shortcut: str, slot: Callable[[], object] | None) -> QAction:
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        if slot is not None:
            action.triggered.connect(lambda _=False: slot())
        self.widget.addAction(action)
        return action

    def _item(self) -> tuple[Item | None, str | None]:
        index, variant = self.target()
        return (self.session.item(index) if index is not None else None), variant

    def open_dialog(self) -> DisputeDialog | None:
        item, variant = self._item()
        if item is None:
            self.session.message.emit("select a question to dispute")
            return None
        dialog = DisputeDialog(self.widget.window(), item, self.session.split, predictions_of(self.session, item.index),
                               variant)  # fmt: skip
        dialog.accepted.connect(lambda: self.overlay.save(dialog.dispute()))
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()  # window-modal, without a nested event loop: a run may be streaming
        self.dialog = dialog
        return dialog

    def remove(self) -> None:
        """Remove every dispute of the question (one undoable step)."""
        item, _ = self._item()
        disputes = self.overlay.disputes_of(item.index) if item else []
        if item is None or not disputes:
            self.session.message.emit("no dispute to remove" + (f" on question #{item.index}" if item else ""))
            return
        self.overlay.remove(disputes)
        self.session.message.emit(f"removed {len(disputes)} dispute(s) of #{item.index} (undo: {UNDO_SHORTCUT})")
