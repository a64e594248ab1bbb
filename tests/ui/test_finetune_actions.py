"""The Fine-tune dialog's confirmations and job actions: a long start is confirmed with its time and money,
local estimates come from this machine's measured step, Cancel answers at once, and a stopped local job
offers Continue and Delete checkpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt

from tests.servers.openai import OpenAITestServer
from tests.servers.platform import PlatformConfig
from tests.ui.conftest import OpenWindow, await_in_qt
from tests.ui.test_confirmations import press, question
from tests.ui.test_finetune_dialog import base_profile, dialog_for, started_job
from workbench.local.finetune import backend as local_backend
from workbench.ui.confirmations import COSTLY_TITLE
from workbench.ui.finetune_dialog import LOCAL_LABEL
from workbench.ui.session import AppPaths


def local_dialog(window: Any, qtbot: Any, tmp_path: Path) -> Any:
    dialog = dialog_for(window, tmp_path)
    dialog.jobs_folder = tmp_path / "jobs"
    dialog.profile.setCurrentText(LOCAL_LABEL)
    await_in_qt(qtbot, dialog.export())
    return dialog


def stopped_local_job(window: Any, dialog: Any, tmp_path: Path, eta_s: float) -> str:
    """A local job recorded by the real backend, stopped after step 2 of 40 with a checkpoint on disk."""
    store = window.session.store
    assert dialog.exported is not None
    job_id = local_backend.new_job(store, dialog.exported.train_path, folder=tmp_path / "jobs", max_steps=40)
    store.update_job(job_id, status="cancelled")
    step = {"event": "step", "step": 2, "total": 40, "loss": 1.5, "elapsed_s": 100.0, "eta_s": eta_s}
    store.save_job_events(job_id, [{"id": f"{job_id}-1", "created_at": 1, "level": "info", "message": "Step 2/40",
                                    "data": step}])  # fmt: skip
    folder = Path(store.job(job_id)["spec"]["out_dir"])
    (folder / "checkpoint.pt").write_bytes(b"\0" * 2_500_000)
    return job_id


@pytest.fixture
def stopped_job(open_window: OpenWindow, qtbot: Any, tmp_path: Path) -> tuple[Any, Any, str]:
    """The window, its local Fine-tune dialog, and a stopped local job selected in it."""
    window = open_window()
    dialog = local_dialog(window, qtbot, tmp_path)
    job_id = stopped_local_job(window, dialog, tmp_path, eta_s=380.0)
    dialog.reload_jobs()
    dialog._select(job_id)
    return window, dialog, job_id


def test_the_dialog_names_what_it_trains_on(open_window: OpenWindow, tmp_path: Path) -> None:
    window = open_window()
    dialog = dialog_for(window, tmp_path)
    dialog.split.setCurrentText("dev")
    assert dialog.source_label.text() == "Trains on demo · split dev"
    dialog.close()


def test_a_long_local_start_is_confirmed_and_the_estimate_is_calibrated(
    open_window: OpenWindow, qtbot: Any, tmp_path: Path
) -> None:
    window = open_window()
    dialog = local_dialog(window, qtbot, tmp_path)
    assert "a first guess of 60 s per step" in dialog.estimate.text()
    stopped_local_job(window, dialog, tmp_path, eta_s=38 * 45.0)  # measured: 45 s per step
    dialog.epochs.setValue(10)  # 250 steps x 45 s
    text = dialog.estimate.text()
    assert "250 steps" in text and "about 3 h 07 min" in text and "measured 45.0 s per step" in text, text
    jobs_before = len(window.session.store.jobs())
    qtbot.mouseClick(dialog.start_button, Qt.MouseButton.LeftButton)
    box = question(dialog, COSTLY_TITLE)
    assert "about 3 h 07 min" in box.text() and "demo · split train" in box.text()
    press(box, "Not now")
    assert len(window.session.store.jobs()) == jobs_before  # nothing started
    dialog.close()


def test_a_stopped_local_job_offers_continue_and_delete_checkpoint(
    stopped_job: tuple[Any, Any, str], qtbot: Any
) -> None:
    window, dialog, job_id = stopped_job
    store = window.session.store
    actions = dialog.actions
    assert actions.continue_button.isEnabled() and actions.delete_button.isEnabled()
    checkpoint = local_backend.checkpoint_of(store, job_id)
    assert checkpoint is not None

    qtbot.mouseClick(actions.delete_button, Qt.MouseButton.LeftButton)
    press(question(dialog, "Delete checkpoint?"), "Keep it")
    assert checkpoint.is_file()
    qtbot.mouseClick(actions.delete_button, Qt.MouseButton.LeftButton)
    box = question(dialog, "Delete checkpoint?")
    assert "2.5 MB" in box.text()
    press(box, "Delete")
    assert not checkpoint.exists() and dialog.status.text() == "checkpoint deleted: 2.5 MB freed"
    assert not actions.continue_button.isEnabled() and not actions.delete_button.isEnabled()


def test_continue_starts_the_stopped_local_job_again(stopped_job: tuple[Any, Any, str], qtbot: Any) -> None:
    window, dialog, job_id = stopped_job
    store = window.session.store
    assert await_in_qt(qtbot, dialog.actions.continue_job()) == job_id
    try:
        assert store.job(job_id)["status"] == "running" and local_backend.alive(store, job_id)
        assert not dialog.actions.continue_button.isEnabled()  # not while it runs
    finally:
        local_backend.cancel(store, job_id)
        qtbot.waitUntil(lambda: not local_backend.alive(store, job_id), timeout=30_000)
    dialog.close()


@pytest.mark.server(answer="model", platform=PlatformConfig(phase_s=2.0, steps=3))
def test_cancel_is_acknowledged_at_once(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any, tmp_path: Path
) -> None:
    base_profile(app_paths, openai_server)
    window = open_window()
    dialog, job_id = started_job(qtbot, window, tmp_path)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    # before the provider has answered: the click is acknowledged and says what it waits for
    assert dialog.status.text() == "Cancel requested: waiting for the provider to confirm …"
    assert dialog.cancel_button.text() == "Cancelling…" and not dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: window.session.store.job(job_id)["status"] == "cancelled", timeout=30_000)
    qtbot.waitUntil(lambda: dialog.cancel_button.text() == "Cancel job", timeout=10_000)
    dialog.close()
