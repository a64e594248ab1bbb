"""The app refuses a run whose template passes a bound on the first question, before anything is sent."""

from __future__ import annotations

from typing import Any

from tests.servers.openai import OpenAITestServer
from tests.ui.conftest import OpenWindow, add_test_profiles
from workbench.core.runs.runspec import VariantSpec
from workbench.ui.session import AppPaths


def test_a_hostile_template_refuses_the_run_in_the_app(
    openai_server: OpenAITestServer, open_window: OpenWindow, app_paths: AppPaths, qtbot: Any
) -> None:
    add_test_profiles(app_paths, openai_server.base_url)
    window = open_window()
    session = window.session
    hostile = session.store.save_prompt_version("hostile", "### user\n{{ question }}\n{{ 'a' * 10**8 }}\n")
    session.set_specs(
        [VariantSpec("right", "gold", session.latest_version("zero_shot")), VariantSpec("bad", "gold", hostile)]
    )
    window.run_bar.run()
    qtbot.waitUntil(lambda: session.state == "failed", timeout=30_000)
    assert window.last_problem == (
        "the run could not start: hostile:3:8: '*' would build more than 256 kB (output-size limit)"
    )
    assert openai_server.stats.received == 0
    assert session.store.runs() == []
    assert window.run_bar.run_button.isEnabled()
