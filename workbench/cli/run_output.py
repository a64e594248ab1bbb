"""What `workbench run` and `workbench report` print: the progress line and the accuracy table."""

from __future__ import annotations

import time
from typing import TextIO

from workbench.core.data.inputs import one_line
from workbench.core.reports.results import RunResults
from workbench.core.reports.summaries import VariantSummary
from workbench.core.runs.events import BatchUpdate, Event, RunFinished, RunStarted
from workbench.core.runs.progress import ProgressMeter
from workbench.core.scoring.exact import HARDNESS_LEVELS


class Progress:
    """A one-line progress bar on stderr with rate, ETA, live counts and cost (a line every few s off a TTY).

    The counts are those of the run's results, folded in from its events here.
    """

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.live = stream.isatty()
        self.results = RunResults([])
        self.meter = ProgressMeter(self.results.progress)
        self._last = 0.0

    def started(self, event: RunStarted) -> None:
        self.results.apply(event)
        self.meter.restart()
        models = ", ".join(f"{v} = {m}" for v, m in event.models.items())
        resumed = f", {event.already_done} already done" if event.already_done else ""
        line = f"run {event.run_name!r} (#{event.run_id}): {event.total} answers to get{resumed}; models: {models}"
        self.stream.write(one_line(line) + "\n")  # model names come from files and servers

    def update(self, event: Event) -> None:
        if isinstance(event, BatchUpdate):
            self.stream.write(
                ("\n" if self.live else "") + f"batch {event.batch_id}: {event.status} ({event.completed}/"
                f"{event.requests} answered, {event.failed} failed); {event.open_batches} batch(es) open\n"
            )
            self.stream.flush()
            return
        if not self.results.apply(event):
            return
        meter, now = self.meter, time.monotonic()
        if now - self._last < (0.1 if self.live else 5.0) and meter.done < meter.total:
            return
        self._last = now
        width = 24
        filled = int(width * meter.fraction)
        line = f"[{'#' * filled}{'.' * (width - filled)}] {meter.describe()}"
        self.stream.write(("\r" + line) if self.live else line + "\n")
        self.stream.flush()

    def finish(self, event: RunFinished) -> None:
        self.stream.write(
            ("\n" if self.live else "") + f"run {event.state}: {event.scored} scored, "
            f"{event.failed} failed in {self.meter.elapsed_s:.1f}s\n"
        )


def _pct(value: float) -> str:
    return f"{100 * value:5.1f}"


def format_summaries(summaries: list[VariantSummary], engine: str = "sqlite") -> str:
    """The accuracy table; its hardness columns are the dataset's levels; TS% (test-suite accuracy) beside EX%
    when any item was scored on a suite; EX%ovr is EX with the gold disputes' overrides; a BIRD run (whose rows
    carry Soft-F1) shows Soft-F1 where others show exact match, which does not apply to BIRD; off SQLite
    (``engine``) EM% is n/a."""
    levels = list(summaries[0].by_hardness) if summaries else list(HARDNESS_LEVELS)
    suite = any(s.has_test_suite for s in summaries)
    bird = any(s.soft_f1 is not None for s in summaries)
    width = max(6, *(len(h) for h in levels))
    second = "SoftF1%" if bird else "EM%"
    head = (
        f"{'variant':<16}{'n':>5} {'EX%':>6} {'95% CI':>13} "
        + (f"{'TS%':>6} " if suite else "")
        + f"{'EX%ovr':>7} {second:>{7 if bird else 6}} "
        + " ".join(f"{h:>{width}}" for h in levels)
        + f" {'failed':>6} {'tokens':>9} {'cost $':>9} {'p50 ms':>8} {'p95 ms':>8}"
    )
    lines = [head]
    for s in summaries:
        lo, hi = s.interval
        hard = " ".join(f"{_pct(c / n) if n else '   -':>{width}}" for c, n in s.by_hardness.values())
        p50, p95 = s.latency_ms(50), s.latency_ms(95)
        ts = f"{_pct(s.test_suite_accuracy) if s.ts_n else '   -':>6} " if suite else ""
        em = _pct(s.exact_accuracy) if engine == "sqlite" else "n/a"
        figure = f"{_pct(s.soft_f1 or 0.0):>7}" if bird else f"{em:>6}"
        lines.append(
            f"{s.variant[:15]:<16}{s.completed:>5} {_pct(s.execution_accuracy):>6} "
            f"{_pct(lo).strip() + '-' + _pct(hi).strip():>13} {ts}{_pct(s.override_accuracy):>7} "
            f"{figure} {hard} {s.failed:>6} "
            f"{s.prompt_tokens + s.completion_tokens:>9} {s.cost:>9.4f} "
            f"{(f'{p50:.0f}' if p50 is not None else '-'):>8} {(f'{p95:.0f}' if p95 is not None else '-'):>8}"
        )
    if bird:
        lines.append("EX% is BIRD's (sets of result rows); exact match does not apply to BIRD")
    elif engine != "sqlite":
        lines.append(f"EM%: not applicable ({engine}): Spider's exact-set match is defined for SQLite")
    return "\n".join(lines)
