"""Experiments over runs: any variant of any stored run is an *arm*; two arms compare item by item.

``compare(baseline, contender)`` pairs two arms on the items both answered (scored or
unscorable; a failed item was not answered). Arms on different item sets compare on their
intersection and say so (``n_common`` and the items only one of them answered). Of the
common items, those with a verdict on both sides (both scored) are the paired items: each is
fixed (the contender right, the baseline wrong), broken (the reverse), both right or both
wrong. Accuracies, their Wilson 95% intervals, the difference (contender minus baseline)
with its 95% paired bootstrap interval (fixed seed, ``stats.paired_bootstrap_interval``) and
the exact McNemar p all come from the one ``PairedComparison`` (summaries.py) over those
items. Cost, tokens and p50 latency are ``VariantSummary`` figures over the common items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workbench.core.data.dataset import Dataset, DatasetError
from workbench.core.reports.results import RunResults
from workbench.core.reports.summaries import PairedComparison, VariantSummary, compare_verdicts
from workbench.core.store import RunInfo, ScoreRow, Store, StoreError

OUTCOMES = ("fixed", "broken", "both_right", "both_wrong", "unscorable")


class ArmError(StoreError):
    """An arm is not in the store: no such run, no such variant, or a run with several variants and none named."""


@dataclass(frozen=True)
class ArmSpec:
    """What an arm's variant was made of."""

    model: str
    template: str  # the template's name; "" for the plain prompt
    version: str  # the per-template label ("v2"); "" for the plain prompt
    retrieval: str
    k: int | None  # None when the run kept no variant spec (runs started from the CLI)
    mode: str | None
    version_id: int | None = None  # the store's prompt version id; None for the plain prompt

    def describe(self) -> str:
        prompt = f"{self.template} {self.version}" if self.template else "plain prompt"
        retrieval = self.retrieval + (f" k={self.k}" if self.k is not None and self.retrieval != "none" else "")
        return " · ".join(part for part in (self.model, prompt, retrieval, self.mode or "") if part)


def arm_specs(store: Store, run_id: int) -> dict[str, ArmSpec]:
    """Each variant of a run (by name, in the run's order) with its spec."""
    return _arm_specs(store, store.run_specs(run_id), store.variant_details(run_id))


def every_run_arm_specs(store: Store) -> dict[int, dict[str, ArmSpec]]:
    """``arm_specs`` of every run (run id -> its variants' specs), in a fixed number of statements."""
    kept, details = store.runs_specs(), store.runs_variant_details()
    labels = store.version_labels()
    names = {v.id: v.name for v in store.prompt_versions()}
    return {run_id: _arm_specs(store, kept.get(run_id), d, labels, names) for run_id, d in details.items()}


def _arm_specs(
    store: Store,
    stored: list[dict[str, Any]] | None,
    details: list[dict[str, Any]],
    labels: dict[int, str] | None = None,
    names: dict[int, str] | None = None,
) -> dict[str, ArmSpec]:
    kept = {s["name"]: s for s in stored or []}
    labels = store.version_labels() if labels is None else labels
    names = {v.id: v.name for v in store.prompt_versions()} if names is None else names
    out = {}
    for d in details:
        version, spec = d["prompt_version_id"], kept.get(d["name"], {})
        out[d["name"]] = ArmSpec(
            d["model"],
            names.get(version, "") if version is not None else "",
            labels.get(version, "") if version is not None else "",
            d["retrieval"],
            spec.get("k"),
            spec.get("mode"),
            version,
        )
    return out


@dataclass(frozen=True, eq=False)
class Arm:
    run: RunInfo
    variant: str
    spec: ArmSpec
    rows: Mapping[int, ScoreRow]  # item index -> the variant's latest row (a shown run's: ``RunResults.rows``)

    @property
    def name(self) -> str:
        return f"{self.run.name}:{self.variant}"

    def answered(self) -> dict[int, ScoreRow]:
        return {i: r for i, r in self.rows.items() if r.status != "failed"}

    def to_json(self) -> dict[str, Any]:
        s = self.spec
        return {
            "arm": self.name,
            "run": self.run.name,
            "run_id": self.run.id,
            "variant": self.variant,
            "model": s.model,
            "template": s.template,
            "version": s.version,
            "retrieval": s.retrieval,
            "k": s.k,
            "mode": s.mode,
        }


def load_arm(store: Store, text: str) -> Arm:
    """The arm ``RUN`` or ``RUN:VARIANT`` names (a run by name or id); ``RUN`` alone needs a run of one variant."""
    run_ref, variant = text, None
    try:
        info = store.run(text)
    except StoreError:
        if ":" not in text:
            raise ArmError(f"no run {text!r} in {store.path}") from None
        run_ref, variant = text.rsplit(":", 1)
        try:
            info = store.run(run_ref)
        except StoreError:
            raise ArmError(f"no run {run_ref!r} in {store.path}") from None
    return run_arm(store, info, variant)


def run_arm(store: Store, info: RunInfo, variant: str | None = None) -> Arm:
    """One variant of a stored run as an arm; ``variant`` None: the run's only variant."""
    specs = arm_specs(store, info.id)
    if variant is None:
        if len(specs) != 1:
            raise ArmError(f"run {info.name!r} has {len(specs)} variants; name one as RUN:VARIANT ({', '.join(specs)})")
        variant = next(iter(specs))
    if variant not in specs:
        raise ArmError(f"run {info.name!r} has no variant {variant!r} (variants: {', '.join(specs)})")
    rows = RunResults.from_store(store, info.id).rows[variant]
    return Arm(info, variant, specs[variant], dict(rows.items()))  # the stored rows read in one pass


def item_questions(run: RunInfo) -> dict[int, str]:
    """Item index -> question text of the run's split; empty when the dataset can no longer be read."""
    try:
        return {item.index: item.question for item in Dataset(run.dataset_root).load_split(run.split).items}
    except (DatasetError, OSError):
        return {}


@dataclass(frozen=True)
class ItemComparison:
    index: int
    db_id: str
    outcome: str  # one of OUTCOMES
    baseline: ScoreRow
    contender: ScoreRow


@dataclass(frozen=True, eq=False)
class ArmComparison:
    baseline: Arm
    contender: Arm
    items: list[ItemComparison]  # every common item, by index
    only_baseline: list[int]  # items only the baseline answered
    only_contender: list[int]
    paired: PairedComparison  # first: the baseline, second: the contender, on the items both scored
    baseline_summary: VariantSummary  # over the common items
    contender_summary: VariantSummary

    @property
    def n_common(self) -> int:
        return len(self.items)

    def indices(self, outcome: str) -> list[int]:
        return [c.index for c in self.items if c.outcome == outcome]

    @property
    def fixed(self) -> list[int]:
        return self.indices("fixed")

    @property
    def broken(self) -> list[int]:
        return self.indices("broken")

    @property
    def same_split(self) -> bool:
        """Both arms ran on one dataset split (else their items are matched by index only)."""
        b, c = self.baseline.run, self.contender.run
        return (b.dataset_root, b.split) == (c.dataset_root, c.split)

    @property
    def regressed(self) -> bool:
        """The contender is worse and the difference's 95% interval lies below 0."""
        return self.paired.difference < 0 and self.paired.difference_interval[1] < 0

    @property
    def cost_delta(self) -> float:
        return self.contender_summary.cost - self.baseline_summary.cost

    @property
    def tokens_delta(self) -> int:
        b, c = self.baseline_summary, self.contender_summary
        return c.prompt_tokens + c.completion_tokens - b.prompt_tokens - b.completion_tokens

    @property
    def latency_p50_delta_ms(self) -> float | None:
        b, c = self.baseline_summary.latency_ms(50), self.contender_summary.latency_ms(50)
        return None if b is None or c is None else c - b

    def to_json(self, questions: dict[int, str] | None = None) -> dict[str, Any]:
        p, questions = self.paired, questions or {}
        return {
            "baseline": self.baseline.to_json(),
            "contender": self.contender.to_json(),
            "n_common": self.n_common,
            "same_split": self.same_split,
            "n_paired": p.n,
            "only_baseline": len(self.only_baseline),
            "only_contender": len(self.only_contender),
            "fixed": self.fixed,
            "broken": self.broken,
            "both_right": p.both_right,
            "both_wrong": p.both_wrong,
            "unscorable": len(self.indices("unscorable")),
            "ex_baseline": round(p.first_accuracy, 6),
            "ex_baseline_ci95": [round(x, 6) for x in p.first_interval],
            "ex_contender": round(p.second_accuracy, 6),
            "ex_contender_ci95": [round(x, 6) for x in p.second_interval],
            "delta": round(p.difference, 6),
            "delta_ci95": [round(x, 6) for x in p.difference_interval],
            "delta_ci_method": "paired bootstrap, percentile, fixed seed",
            "mcnemar_p": p.p_value,
            "regressed": self.regressed,
            "cost_delta": round(self.cost_delta, 6),
            "tokens_delta": self.tokens_delta,
            "latency_p50_delta_ms": self.latency_p50_delta_ms,
            "items": [_item_json(c, questions.get(c.index, "")) for c in self.items],
        }


def _item_json(c: ItemComparison, question: str) -> dict[str, Any]:
    def side(row: ScoreRow) -> dict[str, Any]:
        return {"status": row.status, "exec_match": row.exec_match, "sql": row.predicted_sql, "reason": row.reason}

    return {"index": c.index, "db_id": c.db_id, "question": question, "outcome": c.outcome,
            "baseline": side(c.baseline), "contender": side(c.contender)}  # fmt: skip


def _outcome(baseline: ScoreRow, contender: ScoreRow) -> str:
    if baseline.status != "scored" or contender.status != "scored":
        return "unscorable"
    if bool(baseline.exec_match) == bool(contender.exec_match):
        return "both_right" if baseline.exec_match else "both_wrong"
    return "fixed" if contender.exec_match else "broken"


def compare(baseline: Arm, contender: Arm) -> ArmComparison:
    """The two arms on the items both answered, item by item; see the module's docstring for each figure."""
    b, c = baseline.answered(), contender.answered()
    common = sorted(set(b) & set(c))
    items = [ItemComparison(i, b[i].db_id, _outcome(b[i], c[i]), b[i], c[i]) for i in common]
    scored = [x.index for x in items if x.outcome != "unscorable"]
    paired = compare_verdicts(
        baseline.name,
        contender.name,
        {i: bool(b[i].exec_match) for i in scored},
        {i: bool(c[i].exec_match) for i in scored},
    )
    summaries = []
    for arm, rows in ((baseline, b), (contender, c)):
        summary = VariantSummary(arm.name, arm.spec.model)
        for i in common:
            summary.add(rows[i])
        summaries.append(summary)
    return ArmComparison(
        baseline, contender, items, sorted(set(b) - set(c)), sorted(set(c) - set(b)), paired, *summaries
    )
