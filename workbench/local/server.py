"""The embedded model server: llama.cpp's OpenAI-compatible server as a child process.

Started on a free loopback port with settings suited to the model (threads = cores - 1,
at least 1: on a busy 2-core machine one thread beat two by 10x; ``logits_all`` off),
its output kept in a log file. It ends with the process that started it, SIGKILL included
(a thread in the server watches its owner: ``workbench.local.tied``), has its own process
group so a stop takes everything, restarts when found dead, and a start that fails says
why with the end of its log.

Prompt-prefix reuse needs no setting: the server (llama-cpp-python, one slot) keeps the KV
cache of the prompt it evaluated last and evaluates a new one from the first token where
they differ (its log says "N prefix-match hit, remaining M prompt tokens to eval"); the
local profile's ``reuses_prompt_prefix`` makes runs ask in an order that uses it.
(``cache_prompt``/``--cache-reuse`` belong to llama.cpp's own C++ server, not this one;
its ``--cache``, a RAM cache of whole saved states, is not used.)
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from platformdirs import user_log_dir, user_state_dir

from workbench.local.models import DEFAULT_MODEL, LocalModel, LocalModelError, get, locate, model_file
from workbench.local.tied import OWNER_VARIABLE


def default_threads() -> int:
    return max(1, (os.cpu_count() or 1) - 1)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("llama_cpp") is not None


@dataclass
class ServerSettings:
    model: str = DEFAULT_MODEL
    threads: int = 0  # 0: default_threads()
    n_ctx: int = 0  # 0: the model's default
    port: int = 0  # 0: a free port
    file: str | None = None  # serve this GGUF (a fine-tuned model) instead of ``model``
    alias: str | None = None  # its name in requests

    def resolved(self) -> tuple[LocalModel, int, int]:
        model = model_file(Path(self.file), self.alias or Path(self.file).stem) if self.file else get(self.model)
        return model, self.threads or default_threads(), self.n_ctx or model.n_ctx


def healthy(base_url: str, timeout_s: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(base_url + "/models", timeout=timeout_s) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError, TimeoutError):
        return False


class LocalServer:
    def __init__(
        self, settings: ServerSettings | None = None, log_dir: Path | None = None, tied_to_parent: bool = True
    ) -> None:
        self.settings = settings or ServerSettings()
        self.model, self.threads, self.n_ctx = self.settings.resolved()
        self.log_path = (log_dir or Path(user_log_dir("workbench"))) / f"local-{self.model.key}.log"
        self.tied_to_parent = tied_to_parent
        self.port = self.settings.port
        self.process: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._lock = threading.RLock()
        self._stopping = threading.Event()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def command(self) -> list[str]:
        path = locate(self.model)
        # in the desktop bundle the executable is the app itself; it serves when asked to (packaging/entry.py)
        frozen = getattr(sys, "frozen", False)
        server = ["--llama-server"] if frozen else ["-m", "workbench.local.tied", "llama_cpp.server"]
        cmd = [
            sys.executable,
            *server,
            "--model",
            str(path),
            "--model_alias",
            self.model.alias,
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_threads",
            str(self.threads),
            "--n_threads_batch",
            str(self.threads),
            "--n_ctx",
            str(self.n_ctx),
            "--logits_all",
            "False",
        ]
        if self.model.chat_format:
            cmd += ["--chat_format", self.model.chat_format]
        return cmd

    def start(self, timeout_s: float = 120.0) -> None:
        if not server_available():
            raise LocalModelError(
                "llama.cpp's server is not installed: install workbench with its 'local' extra "
                "(README's install command does this)"
            )
        if self.alive():
            return
        if not self.port:  # a restart keeps the port, so clients keep working
            self.port = self.settings.port or free_port()
        cmd = self.command()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(cmd)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                cmd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, OWNER_VARIABLE: str(os.getpid())} if self.tied_to_parent else None,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalModelError(
                    f"the local model server exited with status {self.process.returncode}; "
                    f"last lines of {self.log_path}:\n{self.log_tail()}"
                )
            if healthy(self.base_url, timeout_s=1.0):
                return
            time.sleep(0.2)
        self.stop()
        raise LocalModelError(
            f"the local model server did not answer within {timeout_s:g} s; "
            f"last lines of {self.log_path}:\n{self.log_tail()}"
        )

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def ensure_running(self) -> None:
        """Restart the server if it has died since it was started."""
        with self._lock:
            if self.process is not None and not self.alive():
                self.restarts += 1
                self.process = None
                self.start()

    def watch(self, interval_s: float = 1.0) -> None:
        """Restart the server from a background thread whenever it dies, until stop()."""

        def loop() -> None:
            while not self._stopping.wait(interval_s):
                with contextlib.suppress(LocalModelError):
                    self.ensure_running()

        self._stopping.clear()
        threading.Thread(target=loop, name="local-model-watchdog", daemon=True).start()

    def stop(self, grace_s: float = 5.0) -> None:
        self._stopping.set()
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(grace_s)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(grace_s)
        self.process = None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __enter__(self) -> LocalServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- a server that outlives the CLI command that started it ------------------------------
def state_path() -> Path:
    return Path(user_state_dir("workbench")) / "local-server.json"


@dataclass
class DetachedServer:
    pid: int
    port: int
    model: str
    log: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def read_state() -> DetachedServer | None:
    try:
        state = DetachedServer(**json.loads(state_path().read_text()))
    except (OSError, ValueError, TypeError):
        return None
    try:
        os.kill(state.pid, 0)
    except OSError:
        return None
    return state


def start_detached(settings: ServerSettings) -> DetachedServer:
    existing = read_state()
    if existing is not None:
        return existing
    server = LocalServer(settings, tied_to_parent=False)
    server.start()
    assert server.process is not None
    state = DetachedServer(server.process.pid, server.port, server.model.key, str(server.log_path))
    state_path().parent.mkdir(parents=True, exist_ok=True)
    state_path().write_text(json.dumps(asdict(state)))
    return state


def stop_detached() -> bool:
    state = read_state()
    with contextlib.suppress(OSError):
        state_path().unlink()
    if state is None:
        return False
    with contextlib.suppress(ProcessLookupError):
        os.killpg(state.pid, signal.SIGTERM)
    for _ in range(50):
        try:
            os.kill(state.pid, 0)
        except OSError:
            return True
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(state.pid, signal.SIGKILL)
    return True
