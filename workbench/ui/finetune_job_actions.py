"""What the Fine-tune dialog does to a job besides starting and following it: a start confirmed when it is
long or costly, Cancel acknowledged at once, and Continue / Delete checkpoint for a stopped local job."""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QWidget,
)

from workbench.core.endpoints.profiles import ProfileError
from workbench.core.finetune.backends import (
    FineTuneBackend,
    FineTuneContext,
    FineTuneError,
    TrainingRequest,
    backend_of,
)
from workbench.core.finetune.jobs import TERMINAL
from workbench.core.finetune.validate import Validation
from workbench.local.finetune import backend as local_backend
from workbench.ui.confirmations import ask, confirm_costly_start
from workbench.ui.finetune_texts import estimate_figures
from workbench.ui.session import AppSession

STOPPED = ("cancelled", "failed")


class JobsDialog(Protocol):
    """What these actions use of the Fine-tune dialog (finetune_dialog.py)."""

    session: AppSession
    status: QLabel
    cancel_button: QPushButton
    chosen: FineTuneBackend | None
    report: Validation | None
    epochs: QSpinBox
    price: QDoubleSpinBox
    base_model: QLineEdit

    def _selected(self) -> str | None: ...
    def _context(self) -> FineTuneContext: ...
    def reload_jobs(self, reattach: bool = False) -> None: ...
    def follow(self, job_id: str) -> None: ...
    def measured_step_s(self) -> float | None: ...
    def source_text(self) -> str: ...
    async def start(self) -> str | None: ...


class JobActions:
    def __init__(self, dialog: JobsDialog, window: QWidget, buttons: QHBoxLayout) -> None:
        self.dialog, self.window = dialog, window  # the same object, as a protocol and as the boxes' parent
        self.continue_button = QPushButton("Continue")
        self.continue_button.setToolTip("Continue this stopped local job from its last checkpoint")
        self.delete_button = QPushButton("Delete checkpoint")
        self.delete_button.setToolTip("Free the disk space of this stopped local job (it can then only start over)")
        buttons.insertWidget(1, self.continue_button)
        buttons.insertWidget(2, self.delete_button)
        self.continue_button.clicked.connect(lambda: asyncio.ensure_future(self.continue_job()))
        self.delete_button.clicked.connect(self.confirm_delete)
        self.cancelling: dict[str, str] = {}  # job -> what its cancel is waiting for, until it has stopped
        self.question: QMessageBox | None = None

    # --- start ---------------------------------------------------------------------------
    def confirm_start(self) -> None:
        """Start at once, unless the estimate passes the long-or-costly threshold: then ask, showing both."""
        d = self.dialog
        paid = d.chosen is None or d.chosen.paid
        seconds, dollars = estimate_figures(d.report, paid, d.epochs.value(), d.price.value(), d.measured_step_s())
        what = f"Fine-tuning {d.base_model.text().strip() or 'the model'} on {d.source_text()}"
        self.question = confirm_costly_start(
            self.window, what, seconds, dollars, lambda: asyncio.ensure_future(d.start())
        )

    # --- the selected job ----------------------------------------------------------------
    def update(self, job: dict[str, Any] | None) -> None:
        local = job is not None and job["spec"].get("backend") == local_backend.LOCAL_BACKEND
        store = self.dialog.session.store
        checkpoint = local_backend.checkpoint_of(store, job["id"]) if local and job else None
        stopped = local and job is not None and job["status"] in STOPPED and not local_backend.alive(store, job["id"])
        self.continue_button.setVisible(local)
        self.delete_button.setVisible(local)
        self.continue_button.setEnabled(stopped and checkpoint is not None)
        self.delete_button.setEnabled(stopped and checkpoint is not None)
        if job is not None and job["id"] in self.cancelling and job["status"] in TERMINAL:
            self.cancelling.pop(job["id"])
        note = self.cancelling.get(job["id"]) if job is not None else None
        self.dialog.cancel_button.setText("Cancelling…" if note else "Cancel job")
        if note:
            self.dialog.cancel_button.setEnabled(False)
            self.dialog.status.setText(note)

    def cancel(self) -> None:
        """Acknowledge at once (and say what the cancel waits for), then ask the backend."""
        d = self.dialog
        job_id = d._selected()
        if job_id is None:
            return
        job = d.session.store.job(job_id)
        local = job["spec"].get("backend") == local_backend.LOCAL_BACKEND
        self.cancelling[job_id] = (
            "Cancel requested: the training process finishes its current step and saves a checkpoint, then stops "
            "(a step can take minutes on this CPU) …" if local else
            "Cancel requested: waiting for the provider to confirm …"
        )  # fmt: skip
        self.update(job)
        self._cancel_task = asyncio.ensure_future(self._cancel(job))

    async def _cancel(self, job: dict[str, Any]) -> None:
        d, job_id = self.dialog, job["id"]
        try:
            said = await backend_of(job, d._context()).cancel(job_id)
            self.cancelling[job_id] = f"Cancel requested: {said}"
        except (FineTuneError, ProfileError) as exc:
            self.cancelling.pop(job_id, None)
            d.status.setText(f"✗ {exc}")
            return
        if not d.session.closed:
            d.reload_jobs()

    async def continue_job(self) -> str | None:
        d = self.dialog
        job_id = d._selected()
        if job_id is None:
            return None
        self.continue_button.setEnabled(False)
        d.status.setText("continuing from the last checkpoint …")
        try:
            backend = backend_of(d.session.store.job(job_id), d._context())
            await backend.start(TrainingRequest(None, resume=job_id))
        except (FineTuneError, ProfileError) as exc:
            d.status.setText(f"✗ could not continue: {exc}")
            return None
        d.reload_jobs()
        d.follow(job_id)
        return job_id

    def confirm_delete(self) -> None:
        d = self.dialog
        job_id = d._selected()
        path = None if job_id is None else local_backend.checkpoint_of(d.session.store, job_id)
        if job_id is None or path is None:
            return
        size_mb = path.stat().st_size / 1e6
        text = f"Delete the checkpoint of {job_id} ({size_mb:,.1f} MB)? The job cannot be continued afterwards."
        self.question = ask(self.window, "Delete checkpoint?", text, "Delete", "Keep it",
                            lambda yes: self.delete(job_id) if yes else None)  # fmt: skip

    def delete(self, job_id: str) -> None:
        d = self.dialog
        try:
            freed = local_backend.delete_checkpoint(d.session.store, job_id)
        except local_backend.LocalFineTuneError as exc:
            d.status.setText(f"✗ {exc}")
            return
        d.reload_jobs()
        d.status.setText(f"checkpoint deleted: {freed / 1e6:,.1f} MB freed")
