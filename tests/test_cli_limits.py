"""A run's SQL bounds come from its flags, else from the variants file's [limits], else the defaults."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.core.test_bounds import ENDLESS_SEARCH
from tests.servers.openai import OpenAITestServer, load_answers
from workbench.cli import main
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.paths import DEMO_DATASET


def setup(tmp_path: Path, server: OpenAITestServer, limits: str) -> list[str]:
    first = Dataset(DEMO_DATASET).load_split("dev").items[0]
    answers = load_answers(DEMO_DATASET)
    answers[first.question] = ENDLESS_SEARCH  # the model answers one question with an endless statement
    server.config.answers = answers
    profiles = tmp_path / "profiles.json"
    ProfileStore(profiles).save({"gold": EndpointProfile(name="gold", base_url=server.base_url, model="gold")})
    variants = tmp_path / "variants.toml"
    variants.write_text(f'{limits}\n[[variant]]\nname = "v"\nprofile = "gold"\n')
    return ["run", "--profiles", str(profiles), "--variants", str(variants), "--variant", "v",
            "--store", str(tmp_path / "w.sqlite"), "--limit", "3"]  # fmt: skip


def reason_of_first(tmp_path: Path) -> str:
    with sqlite3.connect(tmp_path / "w.sqlite") as db:
        return str(db.execute("SELECT reason FROM scores WHERE item_index = 0").fetchone()[0])


@pytest.mark.server(answer="gold")
def test_the_variants_file_sets_the_runs_limits(openai_server: OpenAITestServer, tmp_path: Path) -> None:
    args = setup(tmp_path, openai_server, "[limits]\ntime_limit = 1\nmemory_limit = 256\n")
    assert main([*args, "--run-name", "from-file"]) == 0
    assert "timeout: stopped after 1 s" in reason_of_first(tmp_path)


@pytest.mark.server(answer="gold")
def test_a_flag_overrides_the_file(openai_server: OpenAITestServer, tmp_path: Path) -> None:
    args = setup(tmp_path, openai_server, "[limits]\ntime_limit = 60\n")
    assert main([*args, "--run-name", "flag", "--time-limit", "1.5"]) == 0
    assert "timeout: stopped after 1.5 s" in reason_of_first(tmp_path)


@pytest.mark.parametrize(
    ("limits", "message"),
    [
        ("[limits]\ntime_limit = 0\n", "limits: time_limit: expected more than 0, got 0"),
        ("[limits]\nmemory_limit = 10\n", "limits: memory_limit: expected at least 64, got 10"),
        ("[limits]\ntime_limit = 'soon'\n", "limits: time_limit"),
        ("[limits]\nspeed = 3\n", "limits: unknown field 'speed'"),
        ("limits = 3\n", "limits: expected a [limits] table, got an integer"),
    ],
)
def test_bad_limits_are_one_line(
    limits: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], openai_server: OpenAITestServer
) -> None:
    assert main([*setup(tmp_path, openai_server, limits), "--run-name", "bad"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and message in err[0], err
