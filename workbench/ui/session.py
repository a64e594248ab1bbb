"""The one shared app context: dataset, store, variants, the current run and its live results.

Panes never reach into each other; they read this object and listen to its signals.
Runs are core ``Runner`` coroutines scheduled on the Qt loop (qasync). Events are folded
into ``RunResults`` as they arrive, but the signals that repaint the window are
coalesced: at most one ``results_changed`` per ``FLUSH_MS``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal

from workbench.core.data.dataset import Dataset, DatasetError, Item
from workbench.core.endpoints.connection import require_keys
from workbench.core.endpoints.platform import PlatformError
from workbench.core.endpoints.profiles import EndpointProfile, ProfileError, ProfileStore, default_profiles_path
from workbench.core.prompts.context import Context
from workbench.core.prompts.templates import TemplateProblem
from workbench.core.reports.results import QuestionFilter, RunResults
from workbench.core.runs.batch import BatchRunner
from workbench.core.runs.batch_lines import BatchLimits
from workbench.core.runs.events import BatchUpdate, Event, RunFinished, RunStarted
from workbench.core.runs.progress import ProgressMeter
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import LOCAL_PROFILE, SpecError, VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import RunInfo, Store, StoreError, default_store_path
from workbench.local.models import LocalModelError
from workbench.ui.context_previews import ContextPreviews
from workbench.ui.first_frame import default_ui_settings_path
from workbench.ui.local_service import LocalModelService
from workbench.ui.scoring_workers import ScoringWorkers
from workbench.ui.session_prompts import PromptVersions

FLUSH_MS = 150
# what stops a run with a message for the user (anything else is a bug and propagates)
RUN_PROBLEMS = (SpecError, ProfileError, StoreError, LocalModelError, DatasetError, TemplateProblem, PlatformError)


@dataclass
class AppPaths:
    store: Path = field(default_factory=default_store_path)
    profiles: Path = field(default_factory=default_profiles_path)
    ui_settings: Path = field(default_factory=default_ui_settings_path)


CHECKPOINT_S = 1.0  # the store's log is copied into its file this often at most, in a thread (store/checkpoints.py)


class AppSession(PromptVersions, QObject):
    dataset_changed = Signal()
    question_selected = Signal(int)  # an item index in the current split
    filter_changed = Signal()
    results_changed = Signal()  # coalesced
    progress_changed = Signal()  # coalesced
    run_state_changed = Signal(str)  # idle | starting | running | paused | completed | cancelled | interrupted | failed
    specs_changed = Signal()
    templates_changed = Signal()
    profiles_changed = Signal()
    closing = Signal()  # the session is about to close its store: stop whatever reads it
    message = Signal(str)  # a line for the status bar
    problem = Signal(str)  # something the user must read (a dialog)

    def __init__(self, paths: AppPaths | None = None, local: LocalModelService | None = None) -> None:
        super().__init__()
        self.paths = paths or AppPaths()
        self.store = Store(self.paths.store, checkpoint_every_s=CHECKPOINT_S)  # no commit on the loop syncs the file
        self.profile_store = ProfileStore(self.paths.profiles)
        self.profiles: dict[str, EndpointProfile] = {}
        self.local = local or LocalModelService()
        self.dataset: Dataset | None = None
        self.split = "dev"
        self.items: list[Item] = []
        self.specs: list[VariantSpec] = []
        self.results = RunResults([])
        self.run_info: RunInfo | None = None
        self.state = "idle"
        self.meter = ProgressMeter(lambda: self.results.progress())  # counts of whichever results are shown
        self.current_index: int | None = None
        self.question_filter = QuestionFilter()
        self.limit: int | None = None
        self.batch = False  # submit runs through the Batch API
        self.batch_limits = BatchLimits()
        self.batch_status = ""
        self._runner: Runner | None = None
        self._task: asyncio.Task[None] | None = None
        self._dirty = False
        self.workers = ScoringWorkers()  # scoring and result grids
        self.closed = False
        self.previews = ContextPreviews(self.store)
        self._flush = QTimer(self)
        self._flush.setInterval(FLUSH_MS)
        self._flush.timeout.connect(self._emit_if_dirty)
        self._flush.start()
        self.ensure_bundled_templates()
        self.reload_profiles()

    # --- setup -------------------------------------------------------------------------
    def reload_profiles(self) -> None:
        try:
            self.profiles = self.profile_store.load()
        except ProfileError as exc:
            self.profiles = {}
            self.problem.emit(str(exc))
        self.profiles_changed.emit()

    def save_profiles(self, profiles: dict[str, EndpointProfile]) -> None:
        self.profile_store.save(profiles)
        self.reload_profiles()

    def open_dataset(
        self, root: str | Path, split: str | None = None, questions: Path | None = None, privileged: bool = False
    ) -> None:
        """Open a Spider folder, or a database with its ``questions`` file; on failure nothing changes and the
        reason is raised."""
        if self.running:
            raise DatasetError("a run is in progress: cancel it before opening another dataset")
        dataset = Dataset(root, questions, allow_privileged_role=privileged)  # a folder, a file or a URL
        splits = dataset.splits
        if not splits:
            expected = "dev.json, train_spider.json, …" if dataset.tables_path else "a .csv or .jsonl question file"
            raise DatasetError(f"{root}: no question files ({expected})")
        chosen = split if split in splits else ("dev" if "dev" in splits else splits[0])
        loaded = dataset.load_split(chosen)
        self.dataset, self.split, self.items = dataset, chosen, loaded.items
        self.results = RunResults([s.name for s in self.specs], hardness_levels=dataset.hardness_levels)
        self.run_info = None
        self.current_index = None
        self.previews.clear()
        self.dataset_changed.emit()
        self._set_state("idle")  # the progress bar and state were the previous dataset's run
        self.results_changed.emit()
        if self.items:
            self.select_question(self.items[0].index)

    def set_split(self, split: str) -> None:
        if self.dataset is not None and split != self.split:
            dataset = self.dataset
            self.open_dataset(dataset.location, split, dataset.questions, dataset.allow_privileged_role)

    def set_specs(self, specs: list[VariantSpec]) -> None:
        self.specs = list(specs)
        self.previews.clear()
        self.specs_changed.emit()

    def select_question(self, index: int) -> None:
        if index != self.current_index:
            self.current_index = index
            self.question_selected.emit(index)

    def set_filter(self, spec: QuestionFilter) -> None:
        self.question_filter = spec
        self.filter_changed.emit()

    def item(self, index: int) -> Item | None:
        if 0 <= index < len(self.items) and self.items[index].index == index:  # an item's index is its position
            return self.items[index]
        for item in self.items:
            if item.index == index:
                return item
        return None

    def visible_indices(self) -> list[int]:
        return self.results.filter([i.index for i in self.items], self.question_filter)

    # --- previews ----------------------------------------------------------------------
    async def preview(self, spec: VariantSpec, index: int) -> Context:
        """What ``spec`` sends for question ``index``, built off the loop (raises TemplateProblem or ValueError)."""
        if self.dataset is None:
            raise ValueError("no dataset is open")
        item = self.item(index)
        if item is None:
            raise ValueError(f"no question {index} in {self.split}")
        return await self.previews.build(spec, self.dataset, self.split, item)

    # --- runs --------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def paused(self) -> bool:
        return self._runner is not None and self._runner.paused

    def start_run(self, name: str | None = None) -> asyncio.Task[None] | None:
        if self.running or self.dataset is None:
            return None
        if not self.specs:
            self.problem.emit("add a variant first (Run ▸ Variants…)")
            return None
        stamp = time.strftime("%Y%m%d-%H%M%S")
        run_name = name or self.store.free_run_name(f"{self.dataset.name}-{self.split}-{stamp}")
        self._task = asyncio.ensure_future(self._run(run_name, self.dataset, self.split, self.specs, False, self.batch))
        return self._task

    def ask_again(self, index: int, variants: list[str]) -> asyncio.Task[None] | None:
        """Ask question ``index`` once more for ``variants`` of the shown run, past the cache; its rows are replaced."""
        run, stored = self.run_info, self.store.run_specs(self.run_info.id) if self.run_info else None
        if self.running or run is None or stored is None or self.dataset is None:
            return None
        specs = [s for s in map(VariantSpec.from_json, stored) if s.name in variants]
        self._task = asyncio.ensure_future(self._run(run.name, self.dataset, run.split, specs, True, again={index}))
        return self._task

    def resume_run(self, run: RunInfo) -> asyncio.Task[None] | None:
        """Continue a stored run with the variants it was started with."""
        if self.running:
            return None
        stored = self.store.run_specs(run.id)
        if stored is None:
            self.problem.emit(f"run {run.name!r} was not started from the app; resume it with `workbench run --resume`")
            return None
        specs = [VariantSpec.from_json(s) for s in stored]
        if not self._open_dataset_of(run, "resume"):
            return None
        self.set_specs(specs)
        self.limit = run.item_limit
        assert self.dataset is not None
        batch = bool(self.store.batches(run.id))  # a batch run continues as one: it reattaches to its batches
        self._task = asyncio.ensure_future(
            self._run(run.name, self.dataset, run.split, specs, resume=True, batch=batch)
        )
        return self._task

    def pause(self) -> None:
        if self._runner is not None and self.running:
            if self._runner.paused:
                self._runner.unpause()
                self.meter.resume()
                self._set_state("running")
            else:
                self._runner.pause()
                self.meter.pause()  # the rate and ETA stand still while nothing is sent
                self._set_state("paused")

    def cancel(self) -> None:
        if self._runner is not None:
            self._runner.cancel()

    async def _profiles_for(self, specs: list[VariantSpec]) -> dict[str, EndpointProfile]:
        profiles = dict(self.profiles)
        if any(s.profile == LOCAL_PROFILE for s in specs):
            profiles[LOCAL_PROFILE] = await self.local.ensure()
        for name in {s.profile for s in specs}:
            profile = profiles.get(name)
            if profile is not None and profile.local_file:  # a locally fine-tuned model: its own server
                profiles[name] = await self.local.ensure_file(profile)
        return profiles

    async def _run(
        self, name: str, dataset: Dataset, split: str, specs: list[VariantSpec], resume: bool, batch: bool = False,
        again: frozenset[int] | set[int] = frozenset(),
    ) -> None:  # fmt: skip
        self._set_state("starting")
        try:
            profiles = await self._profiles_for(specs)
            variants = build_variants(specs, dataset, self.store, profiles)
            require_keys(v.profile for v in variants)
            pool = await self.workers.pool()
            options: dict[str, Any] = {"limit": self.limit, "resume": resume, "executor": pool}
            if batch:
                self.batch_status = "submitting batches …"
                self._runner = BatchRunner(
                    self.store, dataset, split, variants, name, limits=self.batch_limits, **options
                )
            else:
                self._runner = Runner(self.store, dataset, split, variants, name, again=again, **options)
            async for event in self._runner.events():  # asked again: the run's stored specs stay as they are
                self._apply(event, None if again else specs)
        except RUN_PROBLEMS as exc:
            self._set_state("failed")
            self.problem.emit(f"the run could not start: {exc}")
        finally:
            self._runner = None
            self._emit_if_dirty()

    def _apply(self, event: Event, specs: list[VariantSpec] | None) -> None:
        """Fold ``event`` in; ``specs``: what the run's stored specs become when it starts (None: they stay)."""
        if isinstance(event, RunStarted):
            if specs is not None:
                self.store.save_run_specs(event.run_id, [s.to_json() for s in specs])
            self.run_info = self.store.run(event.run_id)
            # resumed: what was done before comes from the store
            fresh = not event.already_done
            levels = self.dataset.hardness_levels if self.dataset is not None else None
            started = RunResults(event.variants, event.models, levels)
            self.results = started if fresh else RunResults.from_store(self.store, event.run_id, levels)
            self.results.apply(event)
            self.meter.restart()
            self._set_state("running")
            self.results_changed.emit()
            return
        if isinstance(event, BatchUpdate):
            self.batch_status = (
                f"batch {event.batch_id[-8:]} {event.status} ({event.completed}/{event.requests}); "
                f"{event.open_batches} batch(es) open"
            )
            self._dirty = True
            return
        if isinstance(event, RunFinished):
            self.batch_status = ""
            self.run_info = self.store.run(event.run_id)
            self._set_state(event.state)
            self.message.emit(f"run {event.state}: {event.scored} scored, {event.failed} failed")
            return
        if self.results.apply(event):
            self._dirty = True

    def load_run(self, run: RunInfo) -> None:
        """Show a stored run's results (and its variants, when the app started it)."""
        if self.running:
            return
        if not self._open_dataset_of(run, "show"):
            return
        stored = self.store.run_specs(run.id)
        if stored is not None:
            self.set_specs([VariantSpec.from_json(s) for s in stored])
        self.run_info = run
        levels = self.dataset.hardness_levels if self.dataset else None
        self.results = RunResults.from_store(self.store, run.id, levels)
        self.results.expect(len(self.items[: run.item_limit or None]) * len(self.results.variants))
        self.meter.restart()
        self._set_state(run.state if run.state != "running" else "interrupted")
        self.results_changed.emit()

    def _open_dataset_of(self, run: RunInfo, purpose: str) -> bool:
        """Make ``run``'s dataset and split the open ones; False (and the reason said) when they cannot be."""
        dataset = self.dataset
        if dataset is not None and self.split == run.split and dataset.identity == (run.dataset_root, run.questions):
            return True
        try:
            self.open_dataset(run.dataset_root, run.split, Path(run.questions) if run.questions else None)
        except DatasetError as exc:
            self.problem.emit(f"cannot {purpose} {run.name!r}: {exc}")
            return False
        return True

    def resumable_run(self) -> RunInfo | None:
        """The newest run that stopped before its end and that the app can continue."""
        for run in self.store.unfinished_runs():
            if self.store.run_specs(run.id) is not None:
                return run
        return None

    def _set_state(self, state: str) -> None:
        self.state = state
        self.run_state_changed.emit(state)
        self.progress_changed.emit()

    def _emit_if_dirty(self) -> None:
        if self._dirty:
            self._dirty = False
            self.results_changed.emit()
            self.progress_changed.emit()

    async def shutdown(self) -> None:
        """Cancel a run (it stays resumable), stop the local model, close the store. Idempotent."""
        if self.closed:
            return
        self.closed = True
        self.closing.emit()
        if self.running and self._task is not None:
            self.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._flush.stop()
        await self.workers.stop()
        self.local.stop()
        self.store.close()
