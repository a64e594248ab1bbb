"""Run control: dataset and split, variants, Run / Pause / Cancel, progress with rate, ETA and cost."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.runs.runspec import LOCAL_PROFILE
from workbench.core.store import RunInfo
from workbench.ui.confirmations import confirm_costly_start
from workbench.ui.session import AppSession

ACTIVE = ("starting", "running", "paused")
BATCH_WINDOW_S = 24 * 3600  # the Batch API's completion window


class RunBar(QWidget):
    open_dataset_requested = Signal()
    variants_requested = Signal()

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.dataset_label = QLabel()
        self.open_button = QPushButton("Open dataset…")
        self.split = QComboBox()
        self.split.setToolTip("Which split's questions to run")
        self.limit = QSpinBox()
        self.limit.setRange(0, 1_000_000)
        self.limit.setSpecialValueText("all")
        self.limit.setPrefix("first ")
        self.limit.setToolTip("Run only the first N questions (all: 0)")
        self.variants_button = QPushButton("Variants…")
        self.batch = QCheckBox("as batch")
        self.batch.setToolTip(
            "Submit through the OpenAI Batch API: about half the price, answers within 24 hours. "
            "The run waits for its batches; closing the app is safe, Resume reattaches."
        )
        self.run_button = QPushButton("▶ Run")
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        self.progress_label = QLabel()
        self.resume_label = QLabel()
        self.resume_button = QPushButton("Resume")
        self.resume_button.setToolTip("Continue that run: only what is missing is asked for")
        self._resumable: RunInfo | None = None
        self.question: QMessageBox | None = None

        first = QHBoxLayout()
        first.addWidget(self.dataset_label)
        first.addWidget(self.open_button)
        first.addWidget(self.split)
        first.addWidget(self.limit)
        first.addWidget(self.variants_button)
        first.addWidget(self.batch)
        first.addStretch(1)
        first.addWidget(self.resume_label)
        first.addWidget(self.resume_button)
        first.addWidget(self.run_button)
        first.addWidget(self.pause_button)
        first.addWidget(self.cancel_button)
        second = QHBoxLayout()
        second.addWidget(self.progress, 1)
        second.addWidget(self.progress_label, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addLayout(first)
        layout.addLayout(second)

        self.open_button.clicked.connect(self.open_dataset_requested)
        self.variants_button.clicked.connect(self.variants_requested)
        self.run_button.clicked.connect(self.request_run)
        self.pause_button.clicked.connect(session.pause)
        self.cancel_button.clicked.connect(session.cancel)
        self.resume_button.clicked.connect(self.resume)
        self.split.activated.connect(lambda _: self._split_chosen())
        session.dataset_changed.connect(self._dataset_changed)
        session.progress_changed.connect(self.update_progress)
        session.run_state_changed.connect(self._state_changed)
        self._dataset_changed()
        self._state_changed(session.state)

    def _dataset_changed(self) -> None:
        dataset = self.session.dataset
        self.dataset_label.setText(f"<b>{dataset.name}</b>" if dataset else "<i>no dataset</i>")
        self.dataset_label.setToolTip(f"{dataset.location} ({dataset.engine})" if dataset else "")
        self.split.clear()
        if dataset is not None:
            self.split.addItems(dataset.splits)
            self.split.setCurrentText(self.session.split)

    def _split_chosen(self) -> None:
        try:
            self.session.set_split(self.split.currentText())
        except ValueError as exc:
            self.session.problem.emit(str(exc))
            self.split.setCurrentText(self.session.split)

    def request_run(self) -> None:
        """Run (F5, the Run button); a Batch API run (answers within a day) is confirmed first."""
        if not self.batch.isChecked():
            self.run()
            return
        n = min(len(self.session.items), self.limit.value() or len(self.session.items)) * len(self.session.specs)
        what = f"A Batch API run of {n:,} requests (answers arrive within 24 hours; about half the price)"
        self.question = confirm_costly_start(self.window(), what, BATCH_WINDOW_S, None, self.run)

    def run(self) -> None:
        self.session.limit = self.limit.value() or None
        self.session.batch = self.batch.isChecked()
        self.session.start_run()

    def resume(self) -> None:
        if self._resumable is not None:
            self.session.resume_run(self._resumable)

    def offer_resume(self) -> None:
        """Show the newest run that stopped early, if any (on open, and after a cancel)."""
        run = None if self.session.state in ACTIVE else self.session.resumable_run()  # a cancel: offered at once
        self._resumable = run
        self.resume_label.setText(f"run <b>{run.name}</b> stopped ({run.state})" if run else "")
        self.resume_label.setVisible(run is not None)
        self.resume_button.setVisible(run is not None)

    def _state_changed(self, state: str) -> None:
        active = state in ACTIVE
        self.run_button.setEnabled(not active)
        self.pause_button.setEnabled(state in ("running", "paused"))
        self.pause_button.setText("Continue" if state == "paused" else "Pause")
        self.cancel_button.setEnabled(active)
        for w in (self.open_button, self.split, self.limit, self.variants_button, self.batch):
            w.setEnabled(not active)
        self.offer_resume()
        self.update_progress()

    def update_progress(self) -> None:
        meter, state = self.session.meter, self.session.state
        self.progress.setMaximum(max(1, meter.total))
        self.progress.setValue(min(meter.done, meter.total))
        run = self.session.run_info
        prefix = f"{run.name}: " if run else ""
        if state == "starting":
            self.progress_label.setText(f"starting … {self.session.local.status if self._needs_local() else ''}")
        elif state in ("running", "paused"):
            waiting = f" · {self.session.batch_status}" if self.session.batch_status else ""
            self.progress_label.setText(f"{prefix}{state} · {meter.describe()}{waiting}")
        elif state == "idle":
            self.progress_label.setText("ready · F5 runs the variants on this split")
        else:
            self.progress_label.setText(f"{prefix}{state}" + (f" · {meter.describe()}" if meter.total else ""))

    def _needs_local(self) -> bool:
        return any(s.profile == LOCAL_PROFILE for s in self.session.specs)
