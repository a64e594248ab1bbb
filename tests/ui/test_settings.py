"""Settings: profiles, keys into the keyring (or nowhere, said plainly), test connection."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QMessageBox

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, await_in_qt
from workbench.core.endpoints.connection import resolve_api_key
from workbench.core.endpoints.profiles import KEYRING_SERVICE, ProfileStore
from workbench.ui.session import AppPaths
from workbench.ui.settings_dialog import LOCAL_ENTRY, SettingsDialog

SECRET = "sk-test-Zq81-never-on-disk"


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()]


def fill_new_profile(dialog: SettingsDialog, base_url: str, key: str) -> None:
    dialog.add_profile()
    dialog.name.setText("remote")
    dialog.base_url.setText(base_url)
    dialog.model.setText("gold")
    dialog.key_env.clear()
    dialog.key.setText(key)


@pytest.mark.server(answer="gold")
def test_a_typed_key_goes_to_the_keyring_and_nowhere_else(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any, memory_keyring: Any
) -> None:
    window = open_window()
    dialog = SettingsDialog(window.session, window)
    fill_new_profile(dialog, openai_server.base_url, SECRET)
    dialog.test_connection()  # commits the form: the key is in the keyring from here on
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith(("✓", "✗")), timeout=20_000)
    assert dialog.test_result.text().startswith("✓ reachable: HTTP 200")
    assert "✓ model 'gold' is listed" in dialog.test_result.text()
    assert "✓ answered" in dialog.test_result.text()
    assert memory_keyring.secrets[(KEYRING_SERVICE, "remote")] == SECRET
    assert dialog.key.text() == "" and "keyring" in dialog.key_message.text()
    dialog.save()
    profile = ProfileStore(app_paths.profiles).get("remote")
    assert profile.api_key_keyring and resolve_api_key(profile) == SECRET
    assert "remote" in window.session.profiles
    window.close()
    await_in_qt(qtbot, window.session.shutdown())
    for path in files_under(app_paths.profiles.parent):  # profiles, ui settings, store (and its WAL)
        assert SECRET.encode() not in path.read_bytes(), path


def test_without_a_keyring_the_key_is_kept_nowhere_and_the_user_is_told(
    open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    keyring.set_keyring(FailKeyring())
    window = open_window()
    dialog = SettingsDialog(window.session, window)
    fill_new_profile(dialog, "https://api.example.com/v1", SECRET)
    dialog.save()
    message = dialog.key_message.text()
    assert "no usable OS keyring" in message and "OPENAI_API_KEY" in message and SECRET not in message
    profile = ProfileStore(app_paths.profiles).get("remote")
    assert profile.api_key_env == "OPENAI_API_KEY" and not profile.api_key_keyring
    window.close()
    await_in_qt(qtbot, window.session.shutdown())
    for path in files_under(app_paths.profiles.parent):
        assert SECRET.encode() not in path.read_bytes(), path


def test_bad_profiles_are_refused_with_reasons(open_window: OpenWindow, app_paths: AppPaths) -> None:
    window = open_window()
    dialog = SettingsDialog(window.session, window)
    fill_new_profile(dialog, "api.example.com", "")
    dialog.model.clear()
    dialog.save()
    assert "must start with http" in dialog.key_message.text() and "a model name is needed" in dialog.key_message.text()
    assert not app_paths.profiles.exists() or "remote" not in ProfileStore(app_paths.profiles).load()


@pytest.mark.server(fault_rate=1.0, faults=("500",))
def test_test_connection_reports_a_failing_endpoint(
    openai_server: OpenAITestServer, open_window: OpenWindow, qtbot: Any
) -> None:
    window = open_window()
    dialog = SettingsDialog(window.session, window)
    fill_new_profile(dialog, openai_server.base_url, "")
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith(("✓", "✗")), timeout=20_000)
    last = dialog.test_result.text().split("\n")[-1]
    assert last.startswith("✗ a test request failed") and "500" in last
    assert dialog.test_result.styleSheet() == "color: #9b1c1c"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def connection_result(dialog: SettingsDialog, qtbot: Any) -> str:
    dialog.test_connection()
    qtbot.waitUntil(lambda: dialog.test_result.text().startswith(("✓", "✗")), timeout=20_000)
    return dialog.test_result.text()


def test_test_connection_says_plainly_that_nothing_listens_on_a_closed_port(
    open_window: OpenWindow, qtbot: Any
) -> None:
    window = open_window()
    dialog = SettingsDialog(window.session, window)
    port = free_port()
    fill_new_profile(dialog, f"http://127.0.0.1:{port}/v1", "")
    text = connection_result(dialog, qtbot)
    assert text == f"✗ nothing is listening at 127.0.0.1:{port} (connection refused)", text
    assert "ssl" not in text.lower()


@pytest.mark.server(answer="gold")
def test_test_connection_tries_the_url_even_without_a_key(
    openai_server: OpenAITestServer, open_window: OpenWindow, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("WORKBENCH_TEST_UNSET_KEY", raising=False)
    window = open_window()
    dialog = SettingsDialog(window.session, window)
    fill_new_profile(dialog, openai_server.base_url, "")
    dialog.model.setText("no-such-model")
    dialog.key_env.setText("WORKBENCH_TEST_UNSET_KEY")
    lines = connection_result(dialog, qtbot).split("\n")
    assert lines == [
        f"✓ reachable: HTTP 200 from {openai_server.base_url}/models",
        "✗ model 'no-such-model' is not listed (the server lists: gold, wrong, test-model)",
        "✗ no key: profile 'remote': environment variable WORKBENCH_TEST_UNSET_KEY is not set",
    ]
    assert dialog.test_result.styleSheet() == "color: #9b1c1c"


@pytest.mark.server(answer="gold", require_key="sk-right")
def test_test_connection_names_a_refused_key_and_masks_the_echo(
    openai_server: OpenAITestServer, open_window: OpenWindow, qtbot: Any, memory_keyring: Any
) -> None:
    window = open_window()
    dialog = SettingsDialog(window.session, window)
    fill_new_profile(dialog, openai_server.base_url, "sk-wrong-Zq81-secret")
    text = connection_result(dialog, qtbot)
    assert text == f"✗ reachable, but HTTP 401 at {openai_server.base_url}/models: the server refused the key"
    assert "sk-wrong" not in text


def test_the_profile_list_follows_a_rename(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    dialog = SettingsDialog(window.session, window)
    dialog.add_profile()
    first = dialog.list.currentItem().text()
    dialog.name.setText("renamed")
    dialog.list.setCurrentRow(dialog.list.count() - 1)  # selecting another entry commits the rename
    names = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert "renamed" in names and first not in names
    assert sorted(dialog.profiles) == sorted(n for n in names if n != LOCAL_ENTRY)
    dialog.list.setCurrentRow(names.index("renamed"))
    assert dialog.name.text() == "renamed"


def test_the_built_in_local_profile_is_listed_read_only(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    dialog = SettingsDialog(window.session, window)
    rows = [dialog.list.item(i).text() for i in range(dialog.list.count())]
    assert rows[-1] == LOCAL_ENTRY
    dialog.list.setCurrentRow(len(rows) - 1)
    assert dialog.name.text() == "local" and not dialog.name.isEnabled() and not dialog.test_button.isEnabled()
    assert not dialog.remove_button.isEnabled()
    dialog.remove_profile()
    assert dialog.list.count() == len(rows)
    dialog.save()
    assert "local" not in window.session.profiles  # never saved as a profile


def test_ctrl_comma_opens_settings_and_is_listed(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    action = window.actions_by_name["Settings…"]
    assert QKeySequence("Ctrl+,") in action.shortcuts()
    file_menu = window.menuBar().actions()[0].menu()
    assert action in file_menu.actions()
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: any(d.isVisible() for d in window.findChildren(SettingsDialog)), timeout=5_000)
    for dialog in window.findChildren(SettingsDialog):
        dialog.reject()
    window.show_shortcuts()
    boxes = [b for b in window.findChildren(QMessageBox) if b.windowTitle() == "Keyboard shortcuts"]
    assert boxes and "Ctrl+,\tSettings…" in boxes[-1].text().split("\n")
    boxes[-1].accept()
