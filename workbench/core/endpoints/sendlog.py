"""The send log: when each rate-limited attempt left and was answered, kept in the run store.

The RPM/TPM windows (``limits.SlidingWindowLimiter``) live in memory, but the server's
window does not restart with us: each set of windows also counts, at every check, the
attempts that others logged in the same store (a killed process, a resumed run, another
process running beside it), so kill + resume never exceeds the profile's limits. An
attempt counts from the moment it was answered; one still in flight counts as of now,
and one whose process died unanswered is closed as of the moment that is noticed (the
server saw it, if at all, before the process died).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from workbench.core.sandbox import lifeline
from workbench.core.store import Store

KEEP_S = 3600.0  # rows older than this are pruned: no window is that long


@dataclass(frozen=True)
class Budget:
    """A profile's limits on one server window: requests and tokens per ``window_s`` (None: no limit)."""

    rpm: int | None = None
    tpm: int | None = None
    window_s: float = 60.0
    margin_s: float = 0.0


@dataclass(frozen=True)
class Send:
    at: float  # wall-clock time at which the attempt counts in a window
    tokens: int


def owner_alive(owner: str) -> bool:
    """Owners are ``lifeline.identity()`` + "/" + a token naming one set of windows in that process."""
    return lifeline.alive(owner.split("/", 1)[0])


class SendLog:
    """One store's log of attempts, per window key (one per profile and endpoint)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pruned = 0.0

    def sent(self, window_key: str, owner: str, tokens: int, timeout_s: float) -> int:
        """Record an attempt about to leave; returns its id for :meth:`finished`."""
        send_id, _ = self.claim(window_key, owner, tokens, timeout_s, Budget())
        assert send_id is not None  # an unlimited budget always admits
        return send_id

    def claim(
        self, window_key: str, owner: str, tokens: int, timeout_s: float, budget: Budget
    ) -> tuple[int | None, float]:
        """Record an attempt about to leave if the store's log leaves room for it in ``budget``.

        The count and the insert are one write transaction (``BEGIN IMMEDIATE``), so two
        processes checking at the same instant cannot both take the last place in a window.
        Returns (its id for :meth:`finished`, 0), or (None, seconds until a place frees).
        """
        now = time.time()
        horizon = now - budget.window_s - budget.margin_s
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT coalesce(finished_at, min(deadline, ?)), tokens FROM request_sends "
                "WHERE window_key = ? AND sent_at > ? AND coalesce(finished_at, deadline) > ?",
                (now, window_key, now - KEEP_S, horizon),
            ).fetchall()
            live = [(float(at), int(n)) for at, n in rows if float(at) > horizon]
            full = (budget.rpm is not None and len(live) + 1 > budget.rpm) or (
                budget.tpm is not None and sum(n for _, n in live) + tokens > budget.tpm
            )
            if full and live:
                return None, max(0.01, min(at for at, _ in live) - horizon)
            cur = db.execute(
                "INSERT INTO request_sends (window_key, owner, sent_at, deadline, tokens) VALUES (?, ?, ?, ?, ?)",
                (window_key, owner, now, now + timeout_s, tokens),
            )
            return int(cur.lastrowid or 0), 0.0

    def finished(self, send_id: int) -> None:
        """The attempt has its answer (or was given up): from now on it counts from this moment."""
        with self.store.transaction() as db:
            db.execute("UPDATE request_sends SET finished_at = ? WHERE id = ?", (time.time(), send_id))

    def recent(self, window_key: str, window_s: float, exclude: str = "") -> list[Send]:
        """The attempts of owners other than ``exclude`` that may still count in a window ending now."""
        now = time.time()
        if now - self._pruned > 60.0:
            self._pruned = now
            with self.store.transaction() as db:
                db.execute("DELETE FROM request_sends WHERE sent_at < ?", (now - KEEP_S,))
        rows = self.store.db.execute(
            "SELECT id, deadline, finished_at, tokens, owner FROM request_sends "
            "WHERE window_key = ? AND owner != ? AND sent_at > ? AND coalesce(finished_at, deadline) > ?",
            (window_key, exclude, now - KEEP_S, now - 2 * window_s),
        ).fetchall()
        alive: dict[str, bool] = {}
        sends = []
        for send_id, deadline, finished_at, tokens, owner in rows:
            at = min(float(deadline), now) if finished_at is None else float(finished_at)
            if finished_at is None and not alive.setdefault(owner, owner_alive(owner)):
                self._close(send_id, at)  # its process died unanswered: it counts from now, for everyone
            sends.append(Send(at, int(tokens)))
        return sorted(sends, key=lambda s: s.at)

    def _close(self, send_id: int, at: float) -> None:
        with self.store.transaction() as db:
            db.execute("UPDATE request_sends SET finished_at = ? WHERE id = ? AND finished_at IS NULL", (at, send_id))
