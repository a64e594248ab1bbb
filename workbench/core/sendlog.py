"""The send log: when each rate-limited attempt left and was answered, kept in the run store.

The RPM/TPM windows (``limits.SlidingWindowLimiter``) live in memory, but the server's
window does not restart with us: a process that starts (a resumed run, or a second one
on the same store) seeds its windows from this log, so kill + resume never exceeds the
profile's limits. An attempt counts at the moment it was answered; one never answered
counts until its deadline (sent + timeout) while its process lives, and as of now once
that process is gone (the server saw it, if at all, before the process died).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from workbench.core import lifeline
from workbench.core.store import Store

KEEP_S = 3600.0  # rows older than this are pruned: no window is that long


@dataclass(frozen=True)
class Send:
    at: float  # wall-clock time at which the attempt counts in a window
    tokens: int


class SendLog:
    """One store's log of attempts, per window key (one per profile and endpoint)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.owner = lifeline.identity()

    @property
    def where(self) -> str:
        return str(self.store.path.resolve())

    def sent(self, window_key: str, tokens: int, timeout_s: float) -> int:
        """Record an attempt about to leave; returns its id for :meth:`finished`."""
        now = time.time()
        with self.store.transaction() as db:
            cur = db.execute(
                "INSERT INTO request_sends (window_key, owner, sent_at, deadline, tokens) VALUES (?, ?, ?, ?, ?)",
                (window_key, self.owner, now, now + timeout_s, tokens),
            )
            return int(cur.lastrowid or 0)

    def finished(self, send_id: int) -> None:
        """The attempt has its answer (or was given up): from now on it counts at this moment."""
        with self.store.transaction() as db:
            db.execute("UPDATE request_sends SET finished_at = ? WHERE id = ?", (time.time(), send_id))

    def recent(self, window_key: str, window_s: float) -> list[Send]:
        """The attempts that still count in a window of ``window_s`` ending now, oldest first."""
        now = time.time()
        with self.store.transaction() as db:
            db.execute("DELETE FROM request_sends WHERE sent_at < ?", (now - KEEP_S,))
            rows = db.execute(
                "SELECT sent_at, deadline, finished_at, tokens, owner FROM request_sends WHERE window_key = ?",
                (window_key,),
            ).fetchall()
        alive: dict[str, bool] = {}
        sends = []
        for _sent_at, deadline, finished_at, tokens, owner in rows:
            if finished_at is not None:
                at = float(finished_at)
            elif alive.setdefault(owner, owner == self.owner or lifeline.alive(owner)):
                at = float(deadline)  # still in flight somewhere: it may reach the server as late as that
            else:
                at = min(float(deadline), now)
            if at > now - 2 * window_s:  # the limiter prunes what is past its window and margin
                sends.append(Send(at, int(tokens)))
        return sorted(sends, key=lambda s: s.at)
