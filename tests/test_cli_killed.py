"""A `workbench run` killed with SIGKILL leaves nothing behind: no helper process, no open pipe, no "running" run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import ServerProcess
from tests.test_cli_run import scored_count
from workbench.paths import DEMO_DATASET

ROOT = Path(__file__).resolve().parents[1]


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found: set[int] = set()
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)  # fmt: skip


def test_a_killed_run_leaves_no_process_and_no_open_pipe_and_reads_interrupted(tmp_path: Path) -> None:
    server = ServerProcess("--answer", "gold", "--dataset", str(DEMO_DATASET), "--latency", "0.3")
    store = tmp_path / "store.sqlite"
    try:
        run = subprocess.Popen(
            [sys.executable, "-m", "workbench", "run", "--dataset", str(DEMO_DATASET), "--base-url", server.base_url,
             "--model", "gold", "--concurrency", "2", "--store", str(store), "--run-name", "doomed"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while scored_count(store) < 4 and time.monotonic() < deadline and run.poll() is None:
            time.sleep(0.1)
        assert run.poll() is None and scored_count(store) >= 4, "the run should be scoring answers by now"
        assert cli("runs", "--store", str(store)).stdout.split()[2] == "running"
        helpers = descendants(run.pid)
        assert len(helpers) >= 2  # scoring workers, the forkserver, the resource tracker

        eof = threading.Event()

        def drain() -> None:
            assert run.stdout is not None
            while run.stdout.read(65536):
                pass
            eof.set()  # every writer of the pipe (the run and whatever inherited it) has closed it

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        os.kill(run.pid, signal.SIGKILL)
        run.wait(10)
        killed_at = time.monotonic()
        assert eof.wait(5), "the pipe reading the run's output got no EOF within 5 s"
        while any(alive(p) for p in helpers) and time.monotonic() - killed_at < 5:
            time.sleep(0.05)
        assert [p for p in helpers if alive(p)] == [], "helper processes outlived the killed run"
    finally:
        server.stop()

    listed = cli("runs", "--store", str(store))
    assert listed.returncode == 0 and listed.stdout.split()[1:3] == ["doomed", "interrupted"]
    assert "--resume" in listed.stdout
