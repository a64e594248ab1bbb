"""What the Fine-tune dialog says: the estimate before a job starts, and one job's status."""

from __future__ import annotations

from typing import Any

from workbench.core.finetune.validate import Validation

START = "Start fine-tuning"


def estimate_texts(report: Validation | None, paid: bool, epochs: int, price_per_m: float) -> tuple[str, str]:
    """The estimate and the start button's text for a checked training file (none: nothing to estimate)."""
    if report is None:
        return "", START
    if not paid:
        steps = -(-report.examples // 8) * epochs
        return (f"Free, on this computer: {steps} steps of 8 examples, about {steps * 15 / 60:.0f} minutes on "
                "2 cores, under 4 GB of memory", f"{START} on this CPU")  # fmt: skip
    cost = report.cost(epochs, price_per_m)
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
