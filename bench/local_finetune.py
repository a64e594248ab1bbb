"""Fine-tune the embedded model on the CPU and compare it with its base on held-out questions.

    python bench/local_finetune.py [--epochs 2] [--method full|lora] [--limit N]

Trains on the demo train split (the export of the zero-shot completion prompt: schema,
question, SELECT; the gold SQL as the answer), through the product's local backend (a
training process, GGUF export, a load-and-answer check, registration), then runs base
and fine-tuned models side by side on the demo dev split through two real llama.cpp
servers, with the same prompt, and again with three retrieved examples (BM25).
Last line: ``ex_base=.. ex_finetuned=.. train_s=.. peak_rss_mb=..``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import ProfileStore
from workbench.core.finetune.export import export_training_data
from workbench.core.prompts.context import load_template
from workbench.core.reports.results import RunResults
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import LOCAL_PROFILE, VariantSpec
from workbench.core.runs.variant_builder import build_variants, context_builder
from workbench.core.store import Store
from workbench.local.finetune import backend
from workbench.local.prompts import local_profile
from workbench.local.server import LocalServer, ServerSettings
from workbench.local.serving import served
from workbench.paths import DEMO_DATASET


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--method", choices=("full", "lora"), default="full")
    ap.add_argument("--limit", type=int, help="only the first N dev questions")
    ap.add_argument("--keep", type=Path, help="keep the work folder (the model) here")
    args = ap.parse_args()
    dataset = Dataset(DEMO_DATASET)
    work = args.keep or Path(tempfile.mkdtemp(prefix="wb-local-ft-"))
    store = Store(work / "workspace.sqlite")
    profiles = ProfileStore(work / "profiles.json")
    version = store.version_for("completion_few_shot", load_template("completion_few_shot").text)
    zero = VariantSpec("base", LOCAL_PROFILE, version, "none", 0, mode="completion")

    exported = export_training_data(context_builder(zero, dataset, store), dataset.load_split("train").items,
                                    work / "train.jsonl", 0.0, 0, True, "plain", "SELECT")  # fmt: skip
    print(f"training data: {exported.train} examples ({exported.duplicates_dropped} duplicates dropped)", flush=True)
    job = backend.new_job(store, exported.train_path, folder=work / "jobs", epochs=args.epochs, method=args.method)
    started = time.monotonic()
    backend.start(store, job)
    peak = [0.0]

    def show(event: dict) -> None:
        data = event["data"]
        peak[0] = max(peak[0], float(data.get("peak_rss_mb") or 0))
        if data.get("event") != "step" or data["step"] % 5 == 0 or data["step"] == data["total"]:
            print(f"  {event['message']}", flush=True)

    status = asyncio.run(backend.follow(store, job, show))
    train_s = time.monotonic() - started
    if status != "trained":
        sys.exit(f"training ended {status}: {store.job(job)['error']}")
    profile = backend.check_and_register(store, profiles, job, "demo/train")
    print(f"registered {profile.name!r}: {profile.description}", flush=True)

    specs = [
        zero,
        VariantSpec("finetuned", profile.name, version, "none", 0, mode="completion"),
        VariantSpec("base+bm25", LOCAL_PROFILE, version, "bm25", 3, mode="completion"),
        VariantSpec("finetuned+bm25", profile.name, version, "bm25", 3, mode="completion"),
    ]
    with LocalServer(ServerSettings()) as base_server, served(profiles.load(), {profile.name}) as live:
        live[LOCAL_PROFILE] = local_profile(base_server.base_url, base_server.model.alias)
        variants = build_variants(specs, dataset, store, live)

        async def run() -> int:
            run_id = 0
            async for event in Runner(store, dataset, "dev", variants, "base-vs-ft", limit=args.limit).events():
                run_id = getattr(event, "run_id", run_id)
            return run_id

        run_id = asyncio.run(run())
    results = RunResults.from_store(store, run_id)
    summaries = {s.variant: s for s in results.summaries()}
    for s in summaries.values():
        lo, hi = s.interval
        print(f"{s.variant:<16} {s.correct:>3}/{s.completed:<3} {100 * s.execution_accuracy:5.1f}%  "
              f"(95% CI {100 * lo:.1f}-{100 * hi:.1f})")  # fmt: skip
    for a, b in (("finetuned", "base"), ("finetuned+bm25", "finetuned"), ("finetuned+bm25", "base+bm25")):
        p = results.compare(a, b)
        print(f"{a} vs {b}: {p.first_only} won, {p.second_only} lost (McNemar p = {p.p_value:.3g})")
    print(f"work folder: {work}")
    ex = {name: f"{s.execution_accuracy:.3f}" for name, s in summaries.items()}
    print(
        f"ex_base={ex['base']} ex_finetuned={ex['finetuned']} train_s={train_s:.0f} peak_rss_mb={peak[0]:.0f} "
        f"ex_base_bm25={ex['base+bm25']} ex_finetuned_bm25={ex['finetuned+bm25']}"
    )


if __name__ == "__main__":
    main()
