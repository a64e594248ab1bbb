"""`workbench run` with hostile templates: one line and exit 2 before anything is sent; Ctrl+C stops it."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.servers.openai import OpenAITestServer
from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore

ROOT = Path(__file__).resolve().parents[1]
GOOD = "### user\n{{ schema }}\nQuestion: {{ question }}\n"


def setup_run(tmp_path: Path, server: OpenAITestServer, templates: dict[str, str]) -> list[str]:
    """Files for a run of one variant per template; returns the arguments of `workbench run`."""
    profiles = tmp_path / "profiles.json"
    ProfileStore(profiles).save({"gold": EndpointProfile(name="gold", base_url=server.base_url, model="gold")})
    folder = tmp_path / "templates"
    folder.mkdir()
    entries = []
    for name, text in templates.items():
        (folder / f"{name}.prompt").write_text(text)
        entries.append(f'[[variant]]\nname = "{name}"\nprofile = "gold"\ntemplate = "templates/{name}.prompt"\n')
    (tmp_path / "variants.toml").write_text("\n".join(entries))
    args = ["run", "--profiles", str(profiles), "--variants", "variants.toml", "--store", "w.sqlite"]
    for name in templates:
        args += ["--variant", name]
    return [*args, "--run-name", "hostile", "--limit", "6"]


# Ctrl+C as a terminal delivers it, even when this test runs where SIGINT is ignored (a background job)
WITH_SIGINT = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'workbench'; runpy.run_module('workbench.cli', run_name='__main__')"
)


def workbench(tmp_path: Path, *args: str, sigint: bool = False) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, *(("-c", WITH_SIGINT) if sigint else ("-m", "workbench.cli")), *args],
        cwd=tmp_path,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def finish(proc: subprocess.Popen[str], timeout: float) -> tuple[str, str]:
    """Its output once it exits; killed (and the test failed) if it does not exit in time."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise


def runs(store: Path) -> list[tuple[str, str]]:
    if not store.exists():
        return []
    with sqlite3.connect(store) as db:
        return db.execute("SELECT name, state FROM runs").fetchall()


@pytest.mark.parametrize(
    ("template", "where", "bound"),
    [
        (
            "### user\n{{ question }}\n{{ 'a' * 10**8 }}\n",
            "3:8",
            r"'\*' would build more than 256 kB \(output-size limit\)",
        ),
        (
            "### user\n{% for a in range(100000) %}\n  {% for b in range(100000) %}{% endfor %}{% endfor %}\n",
            "3:6",
            r"more than 100000 loop iterations and calls \(loop budget\)",
        ),
        (
            "### user\n{% for a in range(10**6) %}{% for b in range(10**6) %}x{% endfor %}{% endfor %}\n",
            "2:13",
            r"range of 1000000 numbers is longer than the loop budget of 100000 \(loop budget\)",
        ),
        (
            "### user\n{% for i in range(100) %}\n{{ question * 1000 }}\n{% endfor %}\n",
            "3:1",
            r"the prompt passed 256 kB \(output-size limit\)",
        ),
        ("### user\n{{ ''.__class__.__mro__[1].__subclasses__() }}\n", "2:1", r".*unsafe.*"),
    ],
)
def test_a_hostile_template_refuses_the_run_in_one_line(
    template: str, where: str, bound: str, openai_server: OpenAITestServer, tmp_path: Path
) -> None:
    args = setup_run(tmp_path, openai_server, {"fine": GOOD, "x": template})
    # a generous clock, so that each case meets its own bound (not the time limit) on a loaded machine
    proc = workbench(tmp_path, *args, "--template-time-limit", "60")
    out, err = finish(proc, 120)
    assert proc.returncode == 2, err
    assert re.fullmatch(rf"error: templates/x\.prompt:{where}: {bound}\n", err), err
    assert out == ""
    assert openai_server.stats.received == 0  # not even the good variant's first question went out
    assert runs(tmp_path / "w.sqlite") == []  # refused before the run existed: nothing left "interrupted"


def test_a_template_that_fails_on_a_later_question_fails_that_question(
    openai_server: OpenAITestServer, tmp_path: Path
) -> None:
    template = "### user\n{{ question }}\n{% if '2018' in question %}{{ 'a' * 10**8 }}{% endif %}\n"
    args = setup_run(tmp_path, openai_server, {"x": template})
    proc = workbench(tmp_path, *args)
    _, err = finish(proc, 120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "ExceptionGroup" not in err
    assert runs(tmp_path / "w.sqlite") == [("hostile", "completed")]
    with sqlite3.connect(tmp_path / "w.sqlite") as db:
        failed = db.execute("SELECT item_index, reason FROM scores WHERE status = 'failed'").fetchall()
    assert failed == [(2, "template templates/x.prompt:3:35: '*' would build more than 256 kB (output-size limit)")]
    assert openai_server.stats.received == 5


def test_limits_are_options_of_run(openai_server: OpenAITestServer, tmp_path: Path) -> None:
    big = "### user\n{% for i in range(100) %}\n{{ question * 40 }}\n{% endfor %}\n"
    args = setup_run(tmp_path, openai_server, {"x": big})
    proc = workbench(tmp_path, *args, "--max-prompt-kb", "100")
    _, err = finish(proc, 60)
    assert proc.returncode == 2 and err.endswith(": the prompt passed 100 kB (output-size limit)\n"), err
    proc = workbench(tmp_path, *args, "--max-prompt-kb", "1000", "--limit", "1")
    _, err = finish(proc, 60)
    assert proc.returncode == 0, err
    assert openai_server.stats.received == 1
    proc = workbench(tmp_path, *args, "--template-time-limit", "0")
    _, err = finish(proc, 60)
    assert (proc.returncode, err) == (2, "error: --template-time-limit must be more than 0 (got 0.0)\n")


def test_ctrl_c_stops_a_run_while_a_template_renders(openai_server: OpenAITestServer, tmp_path: Path) -> None:
    slow = "### user\n{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}\n"
    args = setup_run(tmp_path, openai_server, {"slow": slow})
    limits = ("--template-iterations", "10000000000", "--template-time-limit", "600")
    proc = workbench(tmp_path, *args, *limits, sigint=True)
    store = tmp_path / "w.sqlite"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:  # the template's version is stored just before
        try:
            with sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=1) as db:
                if db.execute("SELECT count(*) FROM prompt_versions").fetchone()[0]:
                    break
        except sqlite3.OperationalError:
            pass
        time.sleep(0.05)
    time.sleep(1.0)  # now inside the render (which would take hours)
    assert proc.poll() is None, finish(proc, 10)
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = finish(proc, 10)
    assert time.monotonic() - sent < 5
    assert proc.returncode == 130, err
    assert err.strip() == "interrupted"
    assert openai_server.stats.received == 0
    assert runs(store) == []
