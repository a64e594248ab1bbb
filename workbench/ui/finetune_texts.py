"""What the Fine-tune dialog says: the estimate before a job starts, and one job's status."""

from __future__ import annotations

from typing import Any

from workbench.core.finetune.validate import Validation
from workbench.core.runs.progress import format_duration

START = "Start fine-tuning"


GUESS_S_PER_STEP = 60.0  # a step of 8 examples on 2 cores, until this machine has measured one


def local_steps(report: Validation, epochs: int) -> int:
    return -(-report.examples // 8) * epochs


def estimate_figures(
    report: Validation | None, paid: bool, epochs: int, price_per_m: float, s_per_step: float | None
) -> tuple[float | None, float | None]:
    """(seconds, dollars) a job would take; None where not known (an API job's time, a local job's price)."""
    if report is None:
        return None, None
    if not paid:
        return local_steps(report, epochs) * (s_per_step or GUESS_S_PER_STEP), None
    return None, report.cost(epochs, price_per_m)


def estimate_texts(
    report: Validation | None, paid: bool, epochs: int, price_per_m: float, s_per_step: float | None = None
) -> tuple[str, str]:
    """The estimate and the start button's text for a checked training file (none: nothing to estimate)."""
    if report is None:
        return "", START
    seconds, cost = estimate_figures(report, paid, epochs, price_per_m, s_per_step)
    if not paid:
        basis = (f"estimated from the last job's measured {s_per_step:.1f} s per step" if s_per_step else
                 f"a first guess of {GUESS_S_PER_STEP:.0f} s per step, measured from the first step on")  # fmt: skip
        return (f"Free, on this computer: {local_steps(report, epochs)} steps of 8 examples, about "
                f"{format_duration(seconds or 0)} ({basis}), under 4 GB of memory", f"{START} on this CPU")  # fmt: skip
    label = "" if report.tokens_exact else " (token count estimated)"
    return (f"Estimated cost: ${cost:.2f} = {report.tokens:,} tokens × {epochs} epochs × ${price_per_m:.2f}/M{label}",
            f"{START} (≈ ${cost:.2f})")  # fmt: skip


def job_status_text(job: dict[str, Any], following: bool) -> str:
    """A stored job (``Store.job``): id, status, model, profile, error, and whether the dialog follows it."""
    text = f"{job['id']}: {job['status']}"
    if job["fine_tuned_model"]:
        text += f" → {job['fine_tuned_model']}"
    if job["registered_profile"]:
        text += f"; endpoint profile {job['registered_profile']!r}"
    if job["error"]:
        text += f"\n✗ {job['error']}"
    return text + (" (following)" if following else "")
