"""Settings: profiles, keys into the keyring (or nowhere, said plainly), test connection."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backends.fail import Keyring as FailKeyring

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, await_in_qt
from workbench.core.endpoints.connection import resolve_api_key
from workbench.core.endpoints.profiles import KEYRING_SERVICE, ProfileStore
from workbench.ui.session import AppPaths
from workbench.ui.settings_dialog import SettingsDialog

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
    assert dialog.test_result.text().startswith("✓ answered")
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
    assert dialog.test_result.text().startswith("✗") and "500" in dialog.test_result.text()
