"""The Fine-tune dialog: export -> validate -> estimate -> start -> live events -> register -> compare.

All the work is core's (``core.finetune``); this is its view. Jobs are watched while the
dialog is open; unfinished ones are picked up again whenever it opens (after a restart
too), since every job and event is in the store.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

from platformdirs import user_data_dir
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from workbench.core.endpoints.profiles import EndpointProfile, ProfileError
from workbench.core.finetune.backends import (
    API_BACKEND,
    FineTuneBackend,
    FineTuneContext,
    FineTuneError,
    TrainingRequest,
    backend_named,
    backend_of,
)
from workbench.core.finetune.export import ExportResult, export_training_data
from workbench.core.finetune.jobs import TERMINAL
from workbench.core.finetune.validate import DEFAULT_EPOCHS, Validation, validate
from workbench.core.retrieval.registry import export_recipes
from workbench.core.runs.runspec import LOCAL_PROFILE, VariantSpec
from workbench.core.runs.variant_builder import context_builder
from workbench.local.finetune import backend as local_backend
from workbench.ui.finetune_job_actions import JobActions
from workbench.ui.finetune_texts import estimate_texts, job_status_text
from workbench.ui.session import AppSession

LOCAL_LABEL = "local (the embedded model, this CPU)"


def local_backend_problem() -> str | None:
    """None when local fine-tuning can run here; otherwise how to make it (without importing torch)."""
    return local_backend.available()


class FineTuneDialog(QDialog):
    def __init__(self, session: AppSession, parent: QWidget | None = None, out_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune")
        self.resize(980, 720)
        self.session = session
        self.out_dir = out_dir or Path(user_data_dir("workbench")) / "finetune"
        self.exported: ExportResult | None = None
        self.report: Validation | None = None
        self.watchers: dict[str, asyncio.Task[None]] = {}
        self.poll_s = 30.0
        self.local_steps = 0  # 0: the epochs decide (tests train a few steps)
        self.jobs_folder: Path | None = None  # where local jobs keep their files (default: the user's data folder)
        self.choices: dict[str, tuple[str, str | None]] = {}  # Endpoint entry -> (backend name, profile)
        self.chosen: FineTuneBackend | None = None

        # 1. training data
        self.split, self.template, self.retrieval = QComboBox(), QComboBox(), QComboBox()
        self.k, self.fraction = QSpinBox(), QDoubleSpinBox()
        self.k.setRange(0, 10)
        self.k.setValue(3)
        self.fraction.setRange(0.0, 0.5)
        self.fraction.setSingleStep(0.05)
        self.fraction.setValue(0.1)
        self.retrieval.addItems(export_recipes())
        self.export_button = QPushButton("Export and check")
        self.export_label = QLabel()
        self.export_label.setWordWrap(True)
        self.source_label = QLabel()  # which dataset and split the job trains on
        data_form = QFormLayout()
        for label, widget in (("Split", self.split), ("Prompt version", self.template), ("Retrieval", self.retrieval),
                              ("Examples (k)", self.k), ("Validation share", self.fraction)):  # fmt: skip
            data_form.addRow(label, widget)
        data_box = QGroupBox("1 · Training data (the same template and retrieval as a run)")
        data_layout = QVBoxLayout(data_box)
        data_layout.addWidget(self.source_label)
        data_layout.addLayout(data_form)
        data_layout.addWidget(self.export_button)
        data_layout.addWidget(self.export_label)

        # 2. validation and estimate, 3. start
        self.checks = QPlainTextEdit()
        self.checks.setReadOnly(True)
        self.checks.setPlaceholderText("Export to see the checks: structure, token counts, duplicates, overlap")
        self.profile, self.base_model, self.suffix = QComboBox(), QLineEdit(), QLineEdit()
        self.epochs, self.price = QSpinBox(), QDoubleSpinBox()
        self.epochs.setRange(1, 50)
        self.epochs.setValue(DEFAULT_EPOCHS)
        self.price.setRange(0, 1000)
        self.price.setDecimals(2)
        self.price.setSuffix(" $/M training tokens")
        self.suffix.setPlaceholderText("optional name part of the new model")
        self.estimate = QLabel()
        self.start_button = QPushButton("Start fine-tuning")
        train_form = QFormLayout()
        for label, widget in (("Endpoint", self.profile), ("Base model", self.base_model), ("Epochs", self.epochs),
                              ("Suffix", self.suffix), ("Price", self.price)):  # fmt: skip
            train_form.addRow(label, widget)
        train_box = QGroupBox("2 · Check, estimate and start")
        train_layout = QVBoxLayout(train_box)
        train_layout.addWidget(self.checks, 1)
        train_layout.addLayout(train_form)
        train_layout.addWidget(self.estimate)
        train_layout.addWidget(self.start_button)

        # 4. jobs
        self.jobs = QListWidget()
        self.events = QPlainTextEdit()
        self.events.setReadOnly(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cancel_button, self.variant_button = (
            QPushButton("Cancel job"),
            QPushButton("Add as variant beside its base"),
        )
        jobs_box = QGroupBox("3 · Jobs (followed while this dialog is open; reattached when it opens)")
        jobs_layout = QHBoxLayout(jobs_box)
        jobs_layout.addWidget(self.jobs, 1)
        right = QVBoxLayout()
        right.addWidget(self.events, 1)
        right.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.variant_button)
        right.addLayout(buttons)
        jobs_layout.addLayout(right, 2)

        top = QHBoxLayout()
        top.addWidget(data_box, 1)
        top.addWidget(train_box, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 3)
        layout.addWidget(jobs_box, 2)

        self.export_button.clicked.connect(lambda: asyncio.ensure_future(self.export()))
        self.actions = JobActions(self, self, buttons)
        self.start_button.clicked.connect(self.actions.confirm_start)
        self.cancel_button.clicked.connect(self.actions.cancel)
        self.split.currentTextChanged.connect(lambda _: self.source_label.setText(f"Trains on {self.source_text()}"))
        self.variant_button.clicked.connect(self.add_variant)
        self.profile.currentTextChanged.connect(self._profile_changed)
        for signal in (self.epochs.valueChanged, self.price.valueChanged):
            signal.connect(lambda _: self._update_estimate())
        self.jobs.currentItemChanged.connect(lambda *_: self.show_job())
        session.closing.connect(self._stop_following)
        self._fill()
        self.reload_jobs(reattach=True)

    # --- setup -------------------------------------------------------------------------------
    def _fill(self) -> None:
        session = self.session
        if session.dataset is not None:
            self.split.addItems(session.dataset.splits)
            self.split.setCurrentText("train" if "train" in session.dataset.splits else session.split)
        labels = session.store.version_labels()
        for version in session.store.prompt_versions():
            self.template.addItem(f"{version.name} {labels[version.id]}", version.id)
        self.template.setCurrentIndex(max(0, self.template.findText("zero_shot", Qt.MatchFlag.MatchStartsWith)))
        self.local_problem = local_backend_problem()
        self.choices = {p: (API_BACKEND, p) for p, v in sorted(session.profiles.items()) if not v.local_file}
        if self.local_problem is None:
            self.choices[LOCAL_LABEL] = (local_backend.LOCAL_BACKEND, None)  # after the APIs: with none, the one choice
        self.profile.addItems(list(self.choices))
        self.local_note = QLabel(
            ""
            if self.local_problem is None
            else f"Local fine-tuning (the embedded model, on this CPU): {self.local_problem}"
        )
        self.local_note.setWordWrap(True)
        self.local_note.setStyleSheet("color: #555555")
        self.estimate.parentWidget().layout().addWidget(self.local_note)  # type: ignore[union-attr]
        self._profile_changed(self.profile.currentText())
        self._update_estimate()

    def source_text(self) -> str:
        dataset = self.session.dataset
        return f"{dataset.name if dataset else 'no dataset'} · split {self.split.currentText() or '-'}"

    def measured_step_s(self) -> float | None:
        """This machine's measured time per local training step (from the last local job), if any."""
        paid = self.chosen is None or self.chosen.paid
        return None if paid else local_backend.seconds_per_step(self.session.store)

    def _context(self) -> FineTuneContext:
        return FineTuneContext(self.session.store, self.session.profile_store, self._registered, self.poll_s)

    def _profile_changed(self, name: str) -> None:
        choice = self.choices.get(name)
        self.chosen = None if choice is None else backend_named(choice[0], self._context(), choice[1])
        if self.chosen is not None:
            try:
                self.base_model.setText(self.chosen.default_base_model)
                self.price.setValue(self.chosen.price_per_m)
            except ProfileError as exc:
                self.status.setText(f"✗ {exc}")
        self._update_estimate()

    def _update_estimate(self) -> None:
        report = self.report
        self.start_button.setEnabled(report is not None and report.ok and bool(self.profile.currentText()))
        paid = self.chosen is None or self.chosen.paid
        estimate, button = estimate_texts(report, paid, self.epochs.value(), self.price.value(), self.measured_step_s())
        self.estimate.setText(estimate)
        self.start_button.setText(button)

    # --- export and check ----------------------------------------------------------------------
    async def export(self) -> ExportResult | None:
        session = self.session
        if session.dataset is None:
            return None
        version_id = int(self.template.currentData())
        split = self.split.currentText()
        spec = VariantSpec("export", LOCAL_PROFILE, version_id, self.retrieval.currentText(), self.k.value(),
                           train_split=split)  # fmt: skip
        builder = context_builder(spec, session.dataset, session.store)
        items = session.dataset.load_split(split).items
        prefix = "SELECT" if builder.template.text.rstrip().endswith("SELECT") else ""
        out = self.out_dir / f"{session.dataset.name}-{split}-v{version_id}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
        self.export_label.setText("exporting …")
        self.export_button.setEnabled(False)
        try:
            result = await asyncio.to_thread(
                export_training_data, builder, items, out, self.fraction.value(), 0, True, "fenced", prefix
            )
        except (OSError, ValueError) as exc:
            self.export_label.setText(f"✗ {exc}")
            return None
        finally:
            self.export_button.setEnabled(True)
        self.exported = result
        skipped = f"; {len(result.skipped)} skipped" if result.skipped else ""
        self.export_label.setText(f"{result.train} training and {result.validation} validation examples in "
                                  f"{result.train_path.parent}{skipped}")  # fmt: skip
        self.report = validate(result.train_path, result.validation_path)
        self.checks.setPlainText(("✓ usable\n" if self.report.ok else "✗ not usable\n") + self.report.summary())
        self._update_estimate()
        return result

    # --- jobs ---------------------------------------------------------------------------------
    async def start(self) -> str | None:
        backend = self.chosen
        if self.exported is None or self.report is None or not self.report.ok or backend is None:
            return None
        self.start_button.setEnabled(False)
        self.status.setText("starting …")
        typed = self.base_model.text().strip()
        try:
            request = TrainingRequest(self.exported.train_path, self.exported.validation_path,
                                      None if typed == backend.default_base_model else typed, self.epochs.value(),
                                      suffix=self.suffix.text().strip() or None, max_steps=self.local_steps,
                                      folder=self.jobs_folder)  # fmt: skip
            job_id = (await backend.start(request)).job_id
        except (FineTuneError, ProfileError) as exc:
            self.status.setText(f"✗ could not start: {exc}")
            self._update_estimate()
            return None
        self.reload_jobs()
        self._select(job_id)
        self.follow(job_id)
        self._update_estimate()  # another job may be started from the same data
        return job_id

    def reload_jobs(self, reattach: bool = False) -> None:
        current = self._selected()
        self.jobs.blockSignals(True)
        self.jobs.clear()
        for job in reversed(self.session.store.jobs()):
            model = job["fine_tuned_model"] or job["base_model"]
            item = QListWidgetItem(f"{job['status']:<16} {model}\n{job['id']}")
            item.setData(Qt.ItemDataRole.UserRole, job["id"])
            self.jobs.addItem(item)
            if reattach and job["status"] not in TERMINAL:
                self.follow(job["id"])
        self.jobs.blockSignals(False)
        if current:
            self._select(current)
        elif self.jobs.count():
            self.jobs.setCurrentRow(0)
        self.show_job()

    def _selected(self) -> str | None:
        item = self.jobs.currentItem()
        return None if item is None else str(item.data(Qt.ItemDataRole.UserRole))

    def _select(self, job_id: str) -> None:
        for row in range(self.jobs.count()):
            if self.jobs.item(row).data(Qt.ItemDataRole.UserRole) == job_id:
                self.jobs.setCurrentRow(row)

    def show_job(self) -> None:
        job_id = self._selected()
        if job_id is None:
            self.events.clear()
            self.status.setText("no jobs yet")
            self.actions.update(None)
            return
        job = self.session.store.job(job_id)
        self.events.setPlainText(
            "\n".join(f"[{e['level']}] {e['message']}" for e in self.session.store.job_events(job_id))
        )
        self.events.verticalScrollBar().setValue(self.events.verticalScrollBar().maximum())
        watcher = self.watchers.get(job_id)
        following = watcher is not None and not watcher.done() and job["status"] not in TERMINAL
        self.status.setText(job_status_text(job, following))
        self.cancel_button.setEnabled(job["status"] not in TERMINAL)
        self.variant_button.setEnabled(bool(job["registered_profile"]))
        self.actions.update(job)

    def follow(self, job_id: str) -> None:
        if job_id in self.watchers and not self.watchers[job_id].done():
            return
        self.watchers[job_id] = asyncio.ensure_future(self._follow(job_id))

    async def _follow(self, job_id: str) -> None:
        label = f"{self.session.dataset.name if self.session.dataset else ''}/{self.split.currentText()}"
        try:
            backend = backend_of(self.session.store.job(job_id), self._context())
            await backend.follow(job_id, lambda _: self.show_job(), self._status_changed, label)
        except (FineTuneError, ProfileError) as exc:
            self.status.setText(f"✗ {exc}")
        finally:
            if not self.session.closed:  # a watch cancelled as the app closes: its store is gone
                self.reload_jobs()

    def _status_changed(self, status: str) -> None:
        if status.startswith("service unavailable"):  # the API is down: the watch keeps trying
            self.status.setText(f"⚠ {status}")
            return
        self.reload_jobs()
        if status == "trained":  # a model to check before it is registered
            self.status.setText("checking the new model: loading it in llama.cpp and asking a question …")

    def _registered(self, profile: EndpointProfile) -> None:
        self.session.reload_profiles()
        self.session.message.emit(f"fine-tuned model registered as endpoint profile {profile.name!r}")

    def add_variant(self) -> VariantSpec | None:
        """Put the fine-tuned model in the run beside its base (same prompt and retrieval as the base's variant)."""
        job_id = self._selected()
        if job_id is None:
            return None
        job = self.session.store.job(job_id)
        registered = job["registered_profile"]
        if not registered:
            return None
        specs = list(self.session.specs)
        base_profile = backend_of(job, self._context()).base_profile(job)
        base = next((s for s in specs if s.profile == base_profile), None)
        if base is None:
            version = int(self.template.currentData())
            mode = "completion" if base_profile == LOCAL_PROFILE else "chat"
            base = VariantSpec(base_profile, base_profile, version, self.retrieval.currentText(), self.k.value(),
                               mode=mode)  # fmt: skip
            specs.append(base)
        spec = replace(base, name=f"{base.name}-ft", profile=registered)
        if spec.name not in {s.name for s in specs}:
            specs.insert(specs.index(base) + 1, spec)
        self.session.set_specs(specs)
        self.session.message.emit(f"variant {spec.name!r} added beside {base.name!r}")
        return spec

    def _stop_following(self) -> None:
        for task in self.watchers.values():
            task.cancel()  # the jobs go on (at the provider, or in their own process); reopening follows them again

    def done(self, result: int) -> None:
        self._stop_following()
        super().done(result)
