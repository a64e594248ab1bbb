"""The Fine-tune dialog driven as a user: export, check, start, watch, register, compare with the base."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.servers.openai import OpenAITestServer
from tests.servers.platform import PlatformConfig
from tests.ui.conftest import OpenWindow, await_in_qt
from tests.ui.test_run_flow import RUN_TIMEOUT_MS, table_row
from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.core.runs.runspec import VariantSpec
from workbench.core.store import Store
from workbench.ui.finetune_dialog import FineTuneDialog
from workbench.ui.session import AppPaths, AppSession


def base_profile(paths: AppPaths, server: OpenAITestServer) -> None:
    base = EndpointProfile(name="base", base_url=server.base_url, model="wrong", price_in_per_m=3.0, timeout_s=5)
    ProfileStore(paths.profiles).save({"base": base})


def started_job(qtbot: Any, window: Any, tmp_path: Path) -> tuple[FineTuneDialog, str]:
    """The dialog after export and start on the API backend; the job's id."""
    dialog = dialog_for(window, tmp_path)
    await_in_qt(qtbot, dialog.export())
    job_id = await_in_qt(qtbot, dialog.start())
    assert job_id is not None
    return dialog, job_id


class SuccessReader:
    """Another reader of the same store, in its own thread: whenever it sees a job "succeeded", is its model there?

    It polls every millisecond through its own connection and records each moment the job
    read "succeeded" while its profile was missing from the session or the profiles file.
    """

    def __init__(self, session: AppSession, job_id: str) -> None:
        self.session, self.job_id = session, job_id
        self.store = Store(session.store.path)
        self.seen_succeeded = 0
        self.gaps: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            job = self.store.job(self.job_id)
            if job["status"] == "succeeded":
                self.seen_succeeded += 1
                name = job["registered_profile"]
                if name not in self.session.profiles:
                    self.gaps.append(f"{name!r} not in the session's profiles")
                if name not in ProfileStore(self.session.paths.profiles).load():
                    self.gaps.append(f"{name!r} not in the profiles file")
            time.sleep(0.001)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.store.close()


def dialog_for(window: Any, tmp_path: Path) -> FineTuneDialog:
    dialog = FineTuneDialog(window.session, window, out_dir=tmp_path / "ft")
    dialog.poll_s = 0.05
    dialog.show()
    return dialog


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.05, steps=3))
def test_export_check_start_register_and_compare(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any, tmp_path: Path
) -> None:
    base_profile(app_paths, openai_server)
    window = open_window()
    session = window.session
    version = session.latest_version("zero_shot")
    session.set_specs([VariantSpec("base", "base", version)])
    dialog = dialog_for(window, tmp_path)
    assert not dialog.start_button.isEnabled()  # nothing checked yet
    result = await_in_qt(qtbot, dialog.export())
    assert result is not None and result.train == 200 and result.validation == 22
    assert dialog.checks.toPlainText().startswith("✓ usable") and "200 training examples" in dialog.checks.toPlainText()
    assert dialog.start_button.isEnabled() and "Estimated cost: $" in dialog.estimate.text()
    assert "× 3 epochs × $3.00/M" in dialog.estimate.text()
    job_id = await_in_qt(qtbot, dialog.start())
    assert job_id is not None
    reader = SuccessReader(session, job_id)
    qtbot.waitUntil(lambda: session.store.job(job_id)["registered_profile"] is not None, timeout=30_000)
    qtbot.waitUntil(lambda: reader.seen_succeeded > 0, timeout=5_000)
    reader.stop()
    assert reader.gaps == []  # "succeeded" was never visible before the model could be picked
    assert "Step 3/3: training loss=" in dialog.events.toPlainText()
    registered = session.store.job(job_id)["registered_profile"]
    assert registered in session.profiles and "fine-tuned from wrong" in session.profiles[registered].description
    qtbot.waitUntil(lambda: dialog.variant_button.isEnabled(), timeout=10_000)
    spec = dialog.add_variant()
    assert spec is not None and [s.name for s in session.specs] == ["base", "base-ft"]
    dialog.close()

    window.run_bar.limit.setValue(25)
    window.run_bar.run()
    qtbot.waitUntil(lambda: session.state == "completed", timeout=RUN_TIMEOUT_MS)
    assert table_row(window, "base")["EX %"] == "0.0" and table_row(window, "base-ft")["EX %"] == "100.0"
    window.accuracy.first.setCurrentText("base-ft")
    window.accuracy.second.setCurrentText("base")
    assert "is wrong: <b>25</b>" in window.accuracy.comparison.text()


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.05, steps=2, fail_jobs=True))
def test_a_failed_job_shows_its_error(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any, tmp_path: Path
) -> None:
    base_profile(app_paths, openai_server)
    window = open_window()
    dialog, job_id = started_job(qtbot, window, tmp_path)
    qtbot.waitUntil(lambda: window.session.store.job(job_id)["status"] == "failed", timeout=30_000)
    qtbot.waitUntil(lambda: "✗ Job failed" in dialog.status.text(), timeout=5_000)
    assert not dialog.variant_button.isEnabled() and len(window.session.profiles) == 1


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.3, steps=2))
def test_closing_and_reopening_reattaches_to_the_job(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any, tmp_path: Path
) -> None:
    base_profile(app_paths, openai_server)
    window = open_window()
    dialog, job_id = started_job(qtbot, window, tmp_path)
    dialog.close()  # stops following; the job goes on at the provider
    assert window.session.store.job(job_id)["status"] != "succeeded"
    again = dialog_for(window, tmp_path)
    qtbot.waitUntil(lambda: window.session.store.job(job_id)["status"] == "succeeded", timeout=30_000)
    qtbot.waitUntil(lambda: window.session.store.job(job_id)["registered_profile"] is not None, timeout=10_000)
    again.close()


def test_a_batch_checkbox_and_a_failing_batch_endpoint(
    open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    profile = EndpointProfile(name="nowhere", base_url="http://127.0.0.1:9/v1", model="m", timeout_s=1, max_attempts=1)
    ProfileStore(app_paths.profiles).save({"nowhere": profile})
    window = open_window()
    window.session.set_specs([VariantSpec("v", "nowhere", window.session.latest_version("zero_shot"))])
    window.session.batch_limits = window.session.batch_limits.__class__(first_poll_s=0.05, max_poll_s=0.1)
    window.run_bar.batch.setChecked(True)
    window.run_bar.limit.setValue(3)
    window.run_bar.run()
    qtbot.waitUntil(lambda: window.session.state == "failed", timeout=60_000)
    assert "cannot reach http://127.0.0.1:9/v1" in window.last_problem


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=0.1))
def test_a_run_submitted_as_batch_fills_the_table(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    from tests.ui.test_run_flow import window_with_test_variants

    window = window_with_test_variants(open_window, app_paths, openai_server)
    window.session.batch_limits = window.session.batch_limits.__class__(first_poll_s=0.05, max_poll_s=0.1)
    window.run_bar.batch.setChecked(True)
    window.run_bar.limit.setValue(30)
    window.run_bar.run()
    qtbot.waitUntil(lambda: "batch(es) open" in window.run_bar.progress_label.text(), timeout=30_000)
    assert window.session.store.run(window.session.run_info.name).state == "batch"  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: window.session.state == "completed", timeout=RUN_TIMEOUT_MS)
    assert table_row(window, "right")["EX %"] == "100.0" and table_row(window, "wrong")["n"] == "30"
    assert openai_server.stats.received == 0 and openai_server.platform.stats()["batch_requests"] == 60


def test_the_local_backend_is_offered_with_a_free_estimate(open_window: OpenWindow, qtbot: Any, tmp_path: Path) -> None:
    from workbench.ui.finetune_dialog import LOCAL_LABEL, local_backend_problem

    window = open_window()
    dialog = dialog_for(window, tmp_path)
    assert local_backend_problem() is None  # README's install command installs the extra
    items = [dialog.profile.itemText(i) for i in range(dialog.profile.count())]
    assert items == [LOCAL_LABEL] and dialog.profile.currentText() == LOCAL_LABEL and dialog.local_note.text() == ""
    dialog.profile.setCurrentText(LOCAL_LABEL)
    await_in_qt(qtbot, dialog.export())
    assert (
        dialog.estimate.text().startswith("Free, on this computer: 75 steps") and "under 4 GB" in dialog.estimate.text()
    )
    assert dialog.start_button.text() == "Start fine-tuning on this CPU"
    dialog.close()


def test_a_local_job_from_the_dialog_trains_registers_and_becomes_a_variant(
    open_window: OpenWindow, qtbot: Any, tmp_path: Path
) -> None:
    from workbench.ui.finetune_dialog import LOCAL_LABEL

    window = open_window()
    session = window.session
    dialog = dialog_for(window, tmp_path)
    dialog.local_steps, dialog.jobs_folder = 1, tmp_path / "jobs"
    dialog.profile.setCurrentText(LOCAL_LABEL)
    dialog.template.setCurrentIndex(dialog.template.findText("completion_few_shot", Qt.MatchFlag.MatchStartsWith))
    await_in_qt(qtbot, dialog.export())
    job_id = await_in_qt(qtbot, dialog.start())
    assert job_id is not None and job_id.startswith("local-ftjob-")
    reader = SuccessReader(session, job_id)
    qtbot.waitUntil(lambda: session.store.job(job_id)["status"] in ("succeeded", "failed"), timeout=600_000)
    job = session.store.job(job_id)
    assert job["status"] == "succeeded", job["error"]
    qtbot.waitUntil(lambda: reader.seen_succeeded > 0, timeout=5_000)
    reader.stop()
    assert reader.gaps == []  # the job did not read "succeeded" before its model could be picked
    assert "Step 1/1: training loss=" in dialog.events.toPlainText()
    registered = session.profiles[job["registered_profile"]]
    assert registered.local_file and Path(registered.local_file).is_file()
    qtbot.waitUntil(lambda: dialog.variant_button.isEnabled(), timeout=10_000)
    spec = dialog.add_variant()
    assert spec is not None and spec.profile == registered.name and spec.mode == "completion"
    names = [s.name for s in session.specs]
    assert names.index(spec.name) == names.index(spec.name.removesuffix("-ft")) + 1  # right beside its base
    dialog.close()
