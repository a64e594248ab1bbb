"""The main window: dockable panes (questions, outputs, accuracy, prompt, context, plots, runs) around one session."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QFileDialog,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
)

from workbench.core.data.dataset import DatasetError
from workbench.core.runs.runspec import VariantSpec
from workbench.core.secrets import mask
from workbench.core.store import RunInfo, Store, StoreError
from workbench.paths import DEMO_DATASET
from workbench.ui.accuracy_pane import AccuracyPane
from workbench.ui.confirmations import confirm_quit_mid_run
from workbench.ui.context_pane import ContextPane
from workbench.ui.dataset_dialogs import pick_dataset, pick_postgres, stands_for_folder
from workbench.ui.dispute_dialog import PANE_SHORTCUTS
from workbench.ui.gold_overlay import GoldOverlay
from workbench.ui.outputs_pane import ASK_AGAIN_SHORTCUT, OutputsPane
from workbench.ui.plots_pane import PlotsPane
from workbench.ui.prompt_pane import PromptPane
from workbench.ui.questions_pane import QuestionsPane
from workbench.ui.recent_datasets import RecentDataset, RecentDatasets
from workbench.ui.run_bar import RunBar
from workbench.ui.runs_pane import RunsPane
from workbench.ui.session import AppSession
from workbench.ui.window_layout import (
    COMPACT_WIDTH,
    LAYOUT_VERSION,
    MENUS,
    TOOLBAR_NAME,
    add_pane_shortcuts,
    build_docks,
    compact_layout,
    fit_docks,
    preferences_keys,
    save_columns,
    saved_columns,
)

if TYPE_CHECKING:  # the dialogs and the report writer load when first used, not before the window shows
    from workbench.ui.finetune_dialog import FineTuneDialog


class MainWindow(QMainWindow):
    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.settings = QSettings(str(session.paths.ui_settings), QSettings.Format.IniFormat)
        self.recent = RecentDatasets(self.settings)
        self.setWindowTitle("workbench")
        self.resize(1500, 900)
        self.last_problem = ""
        self._run_state = "idle"
        self._quit_confirmed = False
        self._quit_question: QMessageBox | None = None
        self.gold = GoldOverlay.of(session)  # before the panes: it fills the results they read (gold_overlay.py)
        self.questions = QuestionsPane(session)
        self.prompt = PromptPane(session)
        self.context = ContextPane(session)
        self.outputs = OutputsPane(session)
        self.accuracy = AccuracyPane(session)
        self.accuracy.baseline_changed.connect(self.outputs.set_baseline)
        self.outputs.set_baseline(self.accuracy.model.baseline)
        self.plots = PlotsPane(session)
        self.runs = RunsPane(session)
        self.accuracy.baseline_changed.connect(self.runs.set_baseline)
        self.accuracy.baseline_changed.connect(self.questions.set_baseline)
        self.runs.set_baseline(self.accuracy.model.baseline)
        self.questions.set_baseline(self.accuracy.model.baseline)
        self.runs.open_requested.connect(self.show_run)
        self.runs.pin_requested.connect(lambda run, variant: self.accuracy.pin(variant, run))
        self.runs.beside_requested.connect(self.accuracy.show_beside)
        self.run_bar = RunBar(session)
        self.docks = build_docks(self, {
            "questions": self.questions, "outputs": self.outputs, "accuracy": self.accuracy, "prompt": self.prompt,
            "context": self.context, "plots": self.plots, "runs": self.runs,
        })  # fmt: skip
        self.docks["plots"].visibilityChanged.connect(self.plots.visibility_changed)  # its plots load when shown
        self._fitted = False  # the docks are sized to the window when it is first shown (no saved layout)
        toolbar = QToolBar("Run")
        toolbar.setObjectName(TOOLBAR_NAME)
        toolbar.addWidget(self.run_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.local_label = QLabel(f"local model: {session.local.status}")
        self.statusBar().addPermanentWidget(self.local_label)
        self._build_menus()
        self.default_state = self.saveState(LAYOUT_VERSION)
        session.message.connect(lambda text: self.statusBar().showMessage(mask(text), 8000))
        session.problem.connect(self.show_problem)
        session.local.status_changed.connect(lambda s: self.local_label.setText(f"local model: {s}"))
        session.specs_changed.connect(self._remember_specs)
        session.run_state_changed.connect(self._state_changed)
        session.dataset_changed.connect(self._update_title)
        self.run_bar.open_dataset_requested.connect(self.choose_dataset)
        self.run_bar.variants_requested.connect(self.edit_variants)

    # --- construction ------------------------------------------------------------------
    def _action(self, menu_name: str, text: str, slot: object, shortcut: str | QKeySequence | None = None) -> QAction:
        menu = self._menus.get(menu_name) or self.menuBar().addMenu(menu_name)
        self._menus[menu_name] = menu
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        action.triggered.connect(slot)  # type: ignore[arg-type]
        menu.addAction(action)
        self.actions_by_name[text] = action
        return action

    def _build_menus(self) -> None:
        self._menus: dict[str, object] = {name: self.menuBar().addMenu(name) for name in MENUS}
        self.actions_by_name: dict[str, QAction] = {}
        editor = self.prompt.editor
        self._action("&File", "Open dataset…", self.choose_dataset, QKeySequence.StandardKey.Open)
        self._action("&File", "Open PostgreSQL database…", self.choose_postgres, "Ctrl+Shift+O")
        self._action("&File", "Open demo dataset", lambda: self.open_dataset(DEMO_DATASET))
        file_menu = self._menus["&File"]
        assert isinstance(file_menu, QMenu)
        self.recent_menu = file_menu.addMenu("Open recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self.recent_menu.triggered.connect(self._open_recent)
        self._recent_shown: list[RecentDataset] = []
        self._action("&File", "Show a stored run…", self.choose_run)
        self._action("&File", "Export report as HTML…", lambda: self.export_report("html"))
        self._action("&File", "Export table as CSV…", lambda: self.export_report("csv"))
        settings = self._action("&File", "Settings…", self.edit_settings)
        settings.setShortcuts(preferences_keys())
        settings.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self._action("&File", "Quit", self.close, QKeySequence.StandardKey.Quit)
        self._action("&Edit", "Undo", editor.undo, QKeySequence.StandardKey.Undo)
        self._action("&Edit", "Redo", editor.redo, QKeySequence.StandardKey.Redo)
        self._action("&Edit", "Save prompt version", self.prompt.save, QKeySequence.StandardKey.Save)
        self._action("&Edit", "Find question", self.questions.search.setFocus, QKeySequence.StandardKey.Find)
        self._action("&Run", "Run", self.run_bar.request_run, "F5")
        self._action("&Run", "Pause / continue", self.session.pause, "F6")
        self._action("&Run", "Cancel", self.session.cancel, "Shift+F5")
        self._action("&Run", "Variants…", self.edit_variants, "Ctrl+E")
        self._action("&Run", "Fine-tune…", self.fine_tune, "Ctrl+T")
        self._action("&Go", "Next question", lambda: self.outputs.step(1), "Ctrl+]")
        self._action("&Go", "Previous question", lambda: self.outputs.step(-1), "Ctrl+[")
        self._action("&Go", "Next wrong answer", self.outputs.next_wrong, "F8")
        self._action("&Run", "Ask this question again", self.outputs.ask_again, ASK_AGAIN_SHORTCUT)
        for dock in self.docks.values():
            menu = self._menus.get("&View") or self.menuBar().addMenu("&View")
            self._menus["&View"] = menu
            menu.addAction(dock.toggleViewAction())  # type: ignore[attr-defined]
        runs_toggle = self.docks["runs"].toggleViewAction()
        runs_toggle.setShortcut(QKeySequence("Ctrl+Shift+R"))
        runs_toggle.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        self.actions_by_name["Runs pane"] = runs_toggle
        self._action("&View", "Reset layout", self.reset_layout)
        self._action("&View", "Compact layout", lambda: compact_layout(self, self.docks), "Ctrl+Shift+L")
        add_pane_shortcuts(self)
        self._action("&Help", "Keyboard shortcuts", self.show_shortcuts, "F1")
        # undo/redo follow the editor's availability
        self.actions_by_name["Undo"].setEnabled(False)
        self.actions_by_name["Redo"].setEnabled(False)
        editor.undoAvailable.connect(self.actions_by_name["Undo"].setEnabled)
        editor.redoAvailable.connect(self.actions_by_name["Redo"].setEnabled)

    # --- start and stop ----------------------------------------------------------------
    def start(self) -> None:
        """Restore the layout and the last dataset, variants and run; offer to resume a stopped run."""
        geometry, state = self.settings.value("geometry"), self.settings.value("state")
        if geometry is not None:
            self.restoreGeometry(geometry)  # type: ignore[arg-type]
        if state is not None:
            self._fitted = self.restoreState(state, LAYOUT_VERSION)  # type: ignore[arg-type]
        self.questions.restore_widths(saved_columns(self.settings))
        specs = self._stored_specs() or self.session.default_specs()
        self.session.set_specs(specs)
        root = str(self.settings.value("dataset", str(DEMO_DATASET)))  # a folder, a file or a PostgreSQL URL
        split = str(self.settings.value("split", "dev"))
        questions = self.settings.value("questions")
        opened = self.open_dataset(root, split, Path(str(questions)) if questions else None)
        if not opened and root != str(DEMO_DATASET):
            self.open_dataset(DEMO_DATASET)
        self.prompt.reload_templates()
        last = self._last_run()
        if last is not None:
            self.session.load_run(last)
        self.run_bar.offer_resume()

    def _stored_specs(self) -> list[VariantSpec] | None:
        raw = self.settings.value("specs")
        if not raw:
            return None
        try:
            specs = [VariantSpec.from_json(s) for s in json.loads(str(raw))]
        except (ValueError, TypeError):
            return None
        usable = [s for s in specs if not s.problems(self.session.profiles, self.session.store)]
        return usable or None

    def _last_run(self) -> RunInfo | None:
        dataset = self.session.dataset
        if dataset is None:
            return None
        key, split = dataset.identity, self.session.split
        runs = [r for r in self.session.store.runs() if (r.dataset_root, r.questions) == key and r.split == split]
        return runs[-1] if runs else None

    def _remember_specs(self) -> None:
        self.settings.setValue("specs", json.dumps([s.to_json() for s in self.session.specs]))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.session.running and not self._quit_confirmed:  # ask first; the run goes on meanwhile
            event.ignore()
            self._quit_question = confirm_quit_mid_run(self, self.session, self._quit_now)
            return
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("state", self.saveState(LAYOUT_VERSION))
        save_columns(self.settings, self.questions.remember_widths())
        if self.session.dataset is not None:
            self.settings.setValue("dataset", self.session.dataset.location)
            questions = self.session.dataset.questions
            self.settings.setValue("questions", str(questions) if questions else "")
            self.settings.setValue("split", self.session.split)
        self.settings.sync()
        self.session.cancel()  # what was answered is stored; the run can be resumed on the next start
        event.accept()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._fitted:  # first start: the panes get shares of the window; a small window, the compact layout
            self._fitted = True
            self.reset_layout()

    def reset_layout(self) -> None:
        self.restoreState(self.default_state, LAYOUT_VERSION)
        (compact_layout if self.width() < COMPACT_WIDTH else fit_docks)(self, self.docks)

    def _quit_now(self) -> None:
        self._quit_confirmed = True
        self.close()

    # --- actions -----------------------------------------------------------------------
    def open_dataset(
        self, root: str | Path, split: str | None = None, questions: Path | None = None, privileged: bool = False
    ) -> bool:
        try:
            self.session.open_dataset(root, split, questions, privileged)
        except DatasetError as exc:
            self.show_problem(f"Cannot open {root}:\n{exc}")
            return False
        self.recent.add(RecentDataset(str(root), str(questions) if questions else None))
        return True

    def choose_dataset(self) -> None:
        """File ▸ Open dataset: a Spider or BIRD folder by one of its JSON files, or a database and its questions."""
        chosen = pick_dataset(self)
        if chosen is not None:
            self.open_chosen_dataset(*chosen)

    def open_chosen_dataset(self, chosen: Path, questions: Path | None) -> bool:
        """Open what the dialogs chose: a ``tables.json`` opens its Spider folder, a BIRD folder's JSON file
        that folder; a database, with ``questions``."""
        if stands_for_folder(chosen):
            return self.open_dataset(chosen.parent)
        return self.open_dataset(chosen, None, questions)

    def choose_postgres(self) -> bool:
        """A PostgreSQL database (its URL, password source and question file) from the dialog."""
        choice = pick_postgres(self)
        if choice is None:
            return False
        return self.open_dataset(choice.ref.location, None, choice.questions, choice.ref.allow_privileged_role)

    def _fill_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        self._recent_shown = self.recent.entries()
        for k, entry in enumerate(self._recent_shown):
            menu.addAction(entry.label).setData(k)
        if not self._recent_shown:
            menu.addAction("(none yet)").setEnabled(False)

    def _open_recent(self, action: QAction) -> None:
        if action.data() is None:
            return
        entry = self._recent_shown[int(action.data())]
        self.open_dataset(entry.root, None, entry.questions_path)

    def choose_run(self) -> None:
        runs = self.session.store.runs()
        if not runs:
            self.show_problem("No runs in the store yet.")
            return
        labels = [f"#{r.id} {r.name} ({r.state}, {r.split})" for r in reversed(runs)]
        label, ok = QInputDialog.getItem(self, "Show a stored run", "Run", labels, 0, False)
        if ok:
            self.show_run(list(reversed(runs))[labels.index(label)])

    def show_run(self, run: RunInfo) -> None:
        """Show a stored run's results (File ▸ Show a stored run, the Runs pane's Open); offer to resume it."""
        self.session.load_run(run)
        self.run_bar.offer_resume()

    def export_report(self, kind: str, path: Path | None = None) -> asyncio.Task[None] | None:
        """Write the shown run's report (in a thread: it runs the disagreements' queries)."""
        run = self.session.run_info
        if run is None:
            self.show_problem("No run to export yet: run the variants, or File ▸ Show a stored run…")
            return None
        if path is None:
            pattern = "HTML report (*.html)" if kind == "html" else "CSV table (*.csv)"
            chosen, _ = QFileDialog.getSaveFileName(self, "Export", f"{run.name}.{kind}", pattern)
            if not chosen:
                return None
            path = Path(chosen)
        store_path, levels = self.session.store.path, self.session.results.hardness_levels

        def write() -> None:
            from workbench.core.reports.export import write_report  # in this thread: not on the event loop

            store = Store(store_path)
            try:
                write_report(store, run.id, path, kind, hardness_levels=levels)
            finally:
                store.close()

        async def export() -> None:
            try:
                await asyncio.to_thread(write)
            except (OSError, StoreError) as exc:
                self.show_problem(f"Could not write {path}:\n{exc}")
                return
            self.session.message.emit(f"wrote {path}")

        return asyncio.ensure_future(export())

    def edit_variants(self) -> None:
        if self.session.running:
            return
        from workbench.ui.variants_dialog import VariantsDialog

        VariantsDialog(self.session, self).open()

    def fine_tune(self) -> FineTuneDialog:
        from workbench.ui.finetune_dialog import FineTuneDialog

        dialog = FineTuneDialog(self.session, self)
        dialog.open()
        return dialog

    def edit_settings(self) -> None:
        from workbench.ui.settings_dialog import SettingsDialog

        SettingsDialog(self.session, self).open()

    def show_problem(self, text: str) -> None:
        """Tell the user, without blocking the event loop (a run may be streaming); keys masked."""
        text = mask(text)
        self.last_problem = text
        self.statusBar().showMessage(text.splitlines()[0], 10000)
        box = QMessageBox(QMessageBox.Icon.Warning, "workbench", text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def show_shortcuts(self) -> None:
        lines = [f"{a.shortcut().toString()}\t{name}" for name, a in self.actions_by_name.items()
                 if not a.shortcut().isEmpty()] + PANE_SHORTCUTS  # fmt: skip
        box = QMessageBox(QMessageBox.Icon.Information, "Keyboard shortcuts", "\n".join(lines),
                          QMessageBox.StandardButton.Ok, self)  # fmt: skip
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _state_changed(self, state: str) -> None:
        self._run_state = state
        self._update_title()

    def _update_title(self) -> None:
        """``workbench — demo (dev)``, with the run's state while one is going."""
        parts = ["workbench"]
        dataset = self.session.dataset
        if dataset is not None:
            parts.append(f"{dataset.name} ({self.session.split})")
        if self._run_state in ("running", "paused", "starting"):
            parts.append(self._run_state)
        self.setWindowTitle(" — ".join(parts))
