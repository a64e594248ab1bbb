"""Worker processes for untrusted SQL whose bounds are enforced from outside.

SQLite's own interrupt (a progress handler) cannot stop a single long C call, and an
allocation inside one query can take gigabytes. So every execution of model or
prediction SQL runs in a worker of a :class:`BoundedPool`, which:

* kills a worker whose current statement has passed its deadline (``watchdog.bounded``)
  by more than the grace, whatever it is doing, answers its task with
  :class:`WorkerKilled` and starts a replacement;
* caps each worker's address space (``RLIMIT_AS``) and SQLite's heap, so a query that
  wants too much memory fails inside the worker (``memory limit``) or ends it;
* ends its workers with the process that owns the pool, SIGKILL included.

It is a ``concurrent.futures.Executor``: ``submit``, ``map`` and ``run_in_executor`` work.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing
import os
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from workbench.core.sandbox import lifeline, watchdog
from workbench.core.sandbox import lifeline_forkserver as _preloaded  # noqa: F401  (named below; bundles must carry it)
from workbench.core.sandbox.watchdog import ExecLimits

_TICK_S = 0.05
# Environment variables the owner sets at run time for its workers (e.g. a database password it read from the
# keyring, which a worker's own keyring may not reach): sent with every task, never written anywhere.
HANDED_PREFIX = "WORKBENCH_HANDED_"


def handed_environment() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(HANDED_PREFIX)}


class WorkerKilled(Exception):
    """A task's worker was stopped from outside: ``bound`` is "timeout" or "memory limit"."""

    def __init__(self, bound: str, item: int | None, phase: str, detail: str) -> None:
        super().__init__(f"{bound}: {detail}")
        self.bound, self.item, self.phase, self.detail = bound, item, phase, detail


@dataclass
class _Task:
    future: Future[Any]
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    id: int = 0


@dataclass
class _Worker:
    process: Any
    conn: Connection
    slot: Any
    task: _Task | None = None
    started: float = field(default_factory=time.monotonic)


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _limit_memory(limit_mb: int) -> None:
    """Cap this process's address space at what it has now plus ``limit_mb``, and SQLite's heap below that."""
    extra = limit_mb * 1024 * 1024
    with contextlib.suppress(ImportError, ValueError, OSError):
        import resource

        ceiling = _vm_size_bytes() + extra
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    with contextlib.suppress(sqlite3.Error):
        conn = sqlite3.connect(":memory:")
        conn.execute(f"PRAGMA hard_heap_limit = {int(extra * 0.75)}")
        conn.close()


def _worker_main(conn: Connection, slot: Any, limits: ExecLimits, owner: int) -> None:
    lifeline.exit_with(owner)
    _limit_memory(limits.memory_limit_mb)
    watchdog.install(slot, limits)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        task_id, fn, args, kwargs, handed = message
        os.environ.update(handed)
        try:
            reply = (task_id, True, fn(*args, **kwargs))
        except MemoryError:
            reply = (task_id, False, WorkerKilled("memory limit", None, "", f"over {limits.memory_limit_mb} MB"))
        except BaseException as exc:  # the caller gets it, as from any executor
            reply = (task_id, False, exc)
        slot[0] = 0.0
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result or exception
            conn.send((task_id, False, RuntimeError(f"{type(exc).__name__}: {exc}")))


class BoundedPool(Executor):
    """``workers`` processes that run tasks under ``limits``; see the module's docstring."""

    def __init__(self, workers: int | None = None, limits: ExecLimits | None = None, context: str = "forkserver"):
        self.limits = limits or ExecLimits()
        self.size = max(1, workers or os.cpu_count() or 1)
        self._context = multiprocessing.get_context(context)
        if context == "forkserver":
            self._context.set_forkserver_preload(["__main__", "workbench.core.sandbox.lifeline_forkserver"])
        self._pending: deque[_Task] = deque()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._closed = False
        self._wake_r, self._wake_w = os.pipe()
        self.killed = 0  # workers stopped for passing a bound (for benchmarks and tests)
        self._thread: threading.Thread | None = None

    # --- Executor ------------------------------------------------------------------
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("cannot submit to a pool that was shut down")
            self._pending.append(_Task(future, fn, args, kwargs, next(self._ids)))
            if self._thread is None:
                self._thread = threading.Thread(target=self._supervise, name="bounded-pool", daemon=True)
                self._thread.start()
        self._wake()
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._lock:
            self._closed = True
            if cancel_futures:
                while self._pending:
                    self._pending.popleft().future.cancel()
        self._wake()
        if wait and self._thread is not None:
            self._thread.join()

    # --- the supervisor thread -------------------------------------------------------
    def _wake(self) -> None:
        with self._lock, contextlib.suppress(OSError):
            if self._wake_w >= 0:
                os.write(self._wake_w, b"x")

    def _spawn(self) -> _Worker:
        parent, child = self._context.Pipe()
        slot = self._context.RawArray("d", 3)
        process = self._context.Process(
            target=_worker_main, args=(child, slot, self.limits, os.getpid()), name="workbench-sql", daemon=True
        )
        process.start()
        child.close()
        return _Worker(process, parent, slot)

    def _dispatch(self) -> None:
        with self._lock:
            while self._pending:
                idle = next((w for w in self._workers if w.task is None), None)
                if idle is None and len(self._workers) < self.size:
                    idle = self._spawn()
                    self._workers.append(idle)
                if idle is None:
                    return
                task = self._pending.popleft()
                if not task.future.set_running_or_notify_cancel():
                    continue
                idle.slot[0] = 0.0
                idle.slot[1] = -1.0
                try:
                    idle.conn.send((task.id, task.fn, task.args, task.kwargs, handed_environment()))
                except Exception as exc:  # e.g. an argument that cannot be pickled
                    task.future.set_exception(exc)
                    continue
                idle.task = task

    def _supervise(self) -> None:
        try:
            while True:
                self._dispatch()
                with self._lock:
                    done = self._closed and not self._pending and all(w.task is None for w in self._workers)
                if done:
                    break
                ready = wait([self._wake_r, *(w.conn for w in self._workers)], timeout=_TICK_S)
                if self._wake_r in ready:
                    os.read(self._wake_r, 4096)
                for worker in list(self._workers):
                    if worker.conn in ready:
                        self._receive(worker)
                self._enforce_deadlines()
        finally:
            self._stop_workers()

    def _receive(self, worker: _Worker) -> None:
        try:
            task_id, ok, value = worker.conn.recv()
        except (EOFError, OSError):  # the worker died: out of memory (RLIMIT_AS, the OOM killer) or a crash
            detail = f"the worker ended while running it (over {self.limits.memory_limit_mb} MB?)"
            self._replace(worker, "memory limit", detail)
            return
        task, worker.task = worker.task, None
        if task is None or task.id != task_id:
            return
        if ok:
            task.future.set_result(value)
        else:
            task.future.set_exception(value)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for worker in list(self._workers):
            deadline = worker.slot[0]
            if worker.task is not None and deadline and now > deadline + self.limits.grace_s:
                self._replace(worker, "timeout", f"stopped after {self.limits.time_limit_s:g} s")

    def _replace(self, worker: _Worker, bound: str, detail: str) -> None:
        """Kill ``worker``, answer its task with WorkerKilled, and leave room for a new one."""
        item = int(worker.slot[1]) if worker.slot[1] >= 0 else None
        phase = watchdog.PHASES[int(worker.slot[2])] if 0 <= worker.slot[2] < len(watchdog.PHASES) else ""
        with contextlib.suppress(OSError, ValueError):
            worker.process.kill()
        worker.process.join(5)
        worker.conn.close()
        with self._lock:
            self._workers.remove(worker)
            self.killed += 1
        if worker.task is not None and not worker.task.future.done():
            worker.task.future.set_exception(WorkerKilled(bound, item, phase, detail))

    def _stop_workers(self) -> None:
        for worker in self._workers:
            with contextlib.suppress(OSError, ValueError, BrokenPipeError):
                worker.conn.send(None)
        for worker in self._workers:
            worker.process.join(2)
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(2)
            worker.conn.close()
        self._workers.clear()
        with self._lock:
            fds, self._wake_r, self._wake_w = (self._wake_r, self._wake_w), -1, -1
        for fd in fds:
            with contextlib.suppress(OSError):
                os.close(fd)
