"""A command imports only what it uses: `workbench --help` and `workbench score` load no heavy library.

Checked by the set of modules a fresh interpreter holds after the command ran (not by timing).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from workbench.cli import COMMANDS, HelpFormatter, build_parser, terminal_columns

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("sqlglot", "numpy", "openai", "httpx", "jinja2", "keyring", "PySide6", "torch", "workbench.core.store")
PROBE = """
import json, sys
from workbench.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def modules_after(*argv: str) -> tuple[int, set[str]]:
    """The exit status of ``workbench ARGV`` run in a fresh interpreter, and the modules it had loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *argv], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "DISPLAY": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    return report["code"], set(report["modules"])


def heavy_in(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY))


def test_help_lists_every_command_and_imports_none_of_them() -> None:
    code, modules = modules_after("--help")
    assert code == 0
    assert heavy_in(modules) == []
    assert not any(m.startswith("workbench.cli.") for m in modules)
    assert heavy_in(set(sys.modules)) != []  # this test process has them: the check can fail


@pytest.mark.parametrize("argv", [("score", "--help"), ("dataset", "check", "--help")])
def test_light_commands_help_imports_no_heavy_library(argv: tuple[str, ...]) -> None:
    code, modules = modules_after(*argv)
    assert code == 0 and heavy_in(modules) == []


def test_scoring_a_file_imports_no_heavy_library(demo_path: Path, tmp_path: Path) -> None:
    code, modules = modules_after(
        "score", "--dataset", str(demo_path), "--predictions", str(demo_path / "sample_predictions.sql"),
        "--jsonl", str(tmp_path / "v.jsonl"),
    )  # fmt: skip
    assert code == 0 and (tmp_path / "v.jsonl").is_file()
    assert heavy_in(modules) == []
    assert {m for m in modules if m.startswith("workbench.cli.")} == {"workbench.cli.common", "workbench.cli.score"}


STORE_READERS_SKIP = (
    "workbench.core.runs.runner", "workbench.core.runs.batch", "workbench.core.runs.variant_builder",
    "workbench.core.prompts", "workbench.core.endpoints", "workbench.core.retrieval", "workbench.local",
)  # fmt: skip


@pytest.mark.parametrize("argv", [("runs",), ("report", "--help")])
def test_the_store_readers_load_no_runner_client_or_templates(argv: tuple[str, ...], tmp_path: Path) -> None:
    """`runs` and `report` read the store: none of the runner, the endpoints' clients, templates or local model."""
    code, modules = modules_after(*argv, *(("--store", str(tmp_path / "s.sqlite")) if argv == ("runs",) else ()))
    assert code == 0
    assert [m for m in heavy_in(modules) if not m.startswith("workbench.core.store")] == []
    assert sorted(m for m in modules if m.startswith(STORE_READERS_SKIP)) == []
    assert {m for m in modules if m.startswith("workbench.cli.")} == {
        "workbench.cli.common", "workbench.cli.run_output", "workbench.cli.runs",
    }  # fmt: skip


def test_local_status_loads_neither_the_store_nor_the_runner() -> None:
    code, modules = modules_after("local", "status")
    assert code in (0, 1)  # answering or not running
    assert heavy_in(modules) == [] and sorted(m for m in modules if m.startswith(STORE_READERS_SKIP[:4])) == []


# what `score` loads only once it has opened the dataset's first database (the scorer, its worker pool and parser)
AFTER_FIRST_DATABASE = (
    "workbench.core.scoring.scorer", "workbench.core.scoring.exact", "workbench.core.scoring.spider_sql",
    "workbench.core.scoring.gold_cache", "workbench.core.sandbox.bounded_pool", "multiprocessing",
    "concurrent.futures", "hashlib", "tomllib", "uuid",
)  # fmt: skip


# what a Spider folder's score does not need before its first database: the schemas (built as the scorer reaches
# their databases), your own data's question reader and introspection, BIRD's description reader and metrics,
# PostgreSQL's numbers, shutil's compression modules (argparse's width, a SQLite copy)
NOT_BEFORE_FIRST_DATABASE = (
    "workbench.core.data.schema", "workbench.core.data.dialects", "workbench.core.data.questions",
    "workbench.core.data.introspect", "workbench.core.scoring.bird_metrics", "csv", "decimal", "shutil", "bz2",
    "lzma",
)  # fmt: skip


def imported_before(event: str, *argv: str) -> tuple[list[str], list[str]]:
    """The modules ``python -X importtime -m workbench ARGV`` imported before its start-up trace said ``event``
    (both are written to stderr as they happen), and those it imported after. (Modules loaded through
    ``importlib.import_module``, as the commands' own modules are, are not listed; what they import is.)"""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "workbench", *argv], cwd=ROOT, capture_output=True, text=True,
        timeout=120, env={**os.environ, "WORKBENCH_TRACE_STARTUP": "1", "DISPLAY": ""},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stderr.splitlines()
    (at,) = [k for k, line in enumerate(lines) if line.startswith(f"startup: {event} ")]
    names = [re.sub(r"^import time:[^|]*\|[^|]*\| *", "", line) for line in lines]
    before = [n for n, line in zip(names[:at], lines[:at], strict=True) if line.startswith("import time:")]
    after = [n for n, line in zip(names[at:], lines[at:], strict=True) if line.startswith("import time:")]
    return before, after


def test_score_opens_its_first_database_before_loading_the_scorer(demo_path: Path, tmp_path: Path) -> None:
    before, after = imported_before(
        "first database opened", "score", "--dataset", str(demo_path),
        "--predictions", str(demo_path / "sample_predictions.sql"), "--jsonl", str(tmp_path / "v.jsonl"),
    )  # fmt: skip
    assert {"workbench.core.data.dataset", "workbench.core.scoring.predictions"} <= set(before)
    later = AFTER_FIRST_DATABASE + NOT_BEFORE_FIRST_DATABASE
    early = {m for m in before if any(m == n or m.startswith(n + ".") for n in later)}
    assert sorted(early) == []
    assert {"workbench.core.scoring.scorer", "workbench.core.sandbox.bounded_pool"} <= set(after)  # can fail
    assert "workbench.core.data.schema" in after  # the scorer builds the schemas of the databases it scores


@pytest.mark.parametrize("columns", [None, "57", "0", "wide"])
def test_the_help_is_as_wide_as_argparse_would_make_it(monkeypatch: pytest.MonkeyPatch, columns: str | None) -> None:
    import shutil

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    assert terminal_columns() == shutil.get_terminal_size().columns

    def help_with(formatter: type[argparse.HelpFormatter]) -> str:
        parser = argparse.ArgumentParser(prog="p", description="word " * 60, formatter_class=formatter)
        parser.add_argument("--option", help="a long help line " * 8)
        return parser.format_help()

    assert help_with(HelpFormatter) == help_with(argparse.HelpFormatter)


def test_every_command_in_the_table_gets_its_arguments_and_a_function() -> None:
    full = build_parser()
    (commands,) = [a for a in full._actions if a.dest == "command"]
    assert list(commands.choices) == list(COMMANDS)
    for name, parser in commands.choices.items():
        nested = [a for a in parser._actions if a.dest == "verb"]
        leaves = list(nested[0].choices.values()) if nested else [parser]
        assert all(callable(p.get_default("func")) for p in leaves), name
    (score_only,) = [a for a in build_parser({"score"})._actions if a.dest == "command"]
    assert score_only.choices["score"].get_default("func") is not None
    assert score_only.choices["run"].get_default("func") is None  # listed, not built


WINDOW_PROBE = """
import json, sys
from PySide6.QtWidgets import QApplication
app = QApplication([])
from workbench.ui.app import build
session, window = build()
window.show()
app.processEvents()
shown = sorted(sys.modules)
window.docks["plots"].raise_()
app.processEvents()
print(json.dumps({"shown": shown, "plots": window.plots.history_plot is not None, "later": sorted(sys.modules)}))
"""


def test_the_window_opens_without_the_plotting_numeric_sql_or_keyring_libraries() -> None:
    done = subprocess.run(
        [sys.executable, "-c", WINDOW_PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    later = {"pyqtgraph", "numpy", "sqlglot", "keyring", "openai"}
    assert sorted(later & set(report["shown"])) == []
    assert report["plots"] and "pyqtgraph" in report["later"]  # the Plots tab, once chosen, has its plots
