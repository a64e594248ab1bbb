"""Processes that belong to a run: who owns it, and helpers that end with their owner.

A ``workbench`` process may be killed at any moment, SIGKILL included. Its helper
processes (scoring workers, the multiprocessing forkserver) must not outlive it: they
would hold its stdout open (a ``| tee`` never sees EOF) and keep memory for nothing.
``exit_with(pid)`` starts a thread in the helper that ends it as soon as ``pid`` is gone
(a pidfd where Linux has one, a short poll elsewhere). A run records its owner's
``identity()`` so a later reader can tell a running run from a dead one.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time
from pathlib import Path

_POLL_S = 0.25


def _start_ticks(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), or None where /proc cannot tell."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22; the name in parentheses may hold spaces


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def identity(pid: int | None = None) -> str:
    """``pid:start-ticks:boot-id``: unique to one process for as long as the machine is up, and after."""
    pid = os.getpid() if pid is None else pid
    return f"{pid}:{_start_ticks(pid) or ''}:{_boot_id()}"


def _exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def alive(token: str | None) -> bool:
    """Is the process that ``identity()`` described still running? (False for an empty or malformed token.)"""
    if not token:
        return False
    pid_text, _, rest = token.partition(":")
    ticks, _, boot = rest.partition(":")
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid <= 0 or not _exists(pid):
        return False
    if boot and _boot_id() and boot != _boot_id():
        return False  # recorded before a reboot: the number now names another process
    return not ticks or _start_ticks(pid) in (None, ticks)


def exit_with(pid: int) -> None:
    """End this process (at once, no clean-up) when process ``pid`` ends; a daemon thread watches it."""
    if pid == os.getpid():
        return

    def watch() -> None:
        try:
            fd = os.pidfd_open(pid)
        except ProcessLookupError:
            os._exit(0)
        except (AttributeError, OSError):
            fd = -1
        if fd >= 0:
            with contextlib.suppress(OSError):
                select.select([fd], [], [])  # readable when the process has ended
        else:
            while _exists(pid) and os.getppid() != 1:
                time.sleep(_POLL_S)
        os._exit(0)

    threading.Thread(target=watch, name=f"lifeline-{pid}", daemon=True).start()
