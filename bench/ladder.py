"""The ladder: execution accuracy of prompt and retrieval recipes on one split.

    python bench/ladder.py [--dataset DIR] [--split dev] [--endpoint PROFILE] [--limit N] [--k 3]

Rungs: zero-shot, few-shot by question (BM25), few-shot by masked question, HyDE (a
draft answer, then examples whose SQL skeleton is closest, then the final answer), and
few-shot by question with schema linking (top tables only). Default: the demo dev split
with the embedded local model, as plain completions ending in SELECT (what small models
need); with --endpoint PROFILE (a profile name from your profiles file) the chat
templates. Prints the table; last line: one key=value per rung (execution accuracy).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile, ProfileStore
from workbench.core.prompts.context import load_template
from workbench.core.reports.results import RunResults
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store
from workbench.local.prompts import local_profile
from workbench.local.server import LocalServer, ServerSettings
from workbench.paths import DEMO_DATASET

RUNGS = ("zero", "bm25", "masked", "hyde", "linked")


def specs(store: Store, profile: str, local: bool, k: int) -> list[VariantSpec]:
    """One spec per rung; the local model answers plain completions, endpoints the chat templates."""

    def version(name: str) -> int:
        return store.version_for(name, load_template(name).text)

    mode = "completion" if local else "chat"
    plain = version("completion_few_shot") if local else version("zero_shot")
    shots = version("completion_few_shot") if local else version("few_shot")
    hyde = version("completion_few_shot") if local else version("hyde_revise")
    rungs = {
        "zero": (plain, "none", 0),
        "bm25": (shots, "bm25", 0),
        "masked": (shots, "masked", 0),
        "hyde": (hyde, "skeleton", 0),
        "linked": (shots, "bm25", 2 if local else 3),
    }
    return [VariantSpec(rung, profile, v, recipe, k, tables, mode=mode) for rung, (v, recipe, tables) in rungs.items()]


@contextlib.contextmanager
def endpoint(name: str | None) -> Iterator[tuple[EndpointProfile, bool]]:
    if name:
        yield ProfileStore().get(name), False
        return
    with LocalServer(ServerSettings()) as server:
        yield local_profile(server.base_url, server.model.alias), True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", type=Path, default=DEMO_DATASET)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--endpoint", help="endpoint profile name (default: the embedded local model)")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--k", type=int, default=3)
    args = ap.parse_args()
    dataset = Dataset(args.dataset)
    with endpoint(args.endpoint) as (profile, local), tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp, "ladder.sqlite"))
        variants = build_variants(specs(store, profile.name, local, args.k), dataset, store, {profile.name: profile})

        async def run() -> int:
            run_id = 0
            async for event in Runner(store, dataset, args.split, variants, "ladder", limit=args.limit).events():
                run_id = getattr(event, "run_id", run_id)
            return run_id

        summaries = RunResults.from_store(store, asyncio.run(run())).summaries()
        store.close()
    print(f"model {profile.model} on {dataset.root} / {args.split}")
    print(f"{'rung':<8} {'EX':>12} {'EM':>6} {'failed':>7}")
    for s in summaries:
        print(
            f"{s.variant:<8} {s.correct:>4}/{s.completed:<4} {100 * s.execution_accuracy:5.1f}% {s.exact:>4} "
            f"{s.failed:>6}"
        )
    print(" ".join(f"ex_{s.variant}={s.execution_accuracy:.3f}" for s in summaries))


if __name__ == "__main__":
    main()
