"""Scoring speed: gold queries and a perturbed copy of them, against a Spider-format dataset.

    python bench/score_speed.py [--dataset DIR] [--official CHECKOUT]

Scores the gold queries (first pass fills the gold-result cache) and then a seeded
perturbation of them (the realistic case: many prediction files against one dev set).
With --official (a checkout of test-suite-sql-eval; needs the dev extras nltk and
sqlparse) the official evaluator scores the same perturbed file in the same run, and
the ratio is printed. Last line: items_per_s=N [ratio_official=R].
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.perturb import perturb_all
from workbench.core.data.dataset import Dataset
from workbench.core.scoring import Scorer, summarize
from workbench.paths import DEMO_DATASET

SHARED_SPIDER = Path(__file__).resolve().parents[2] / "shared" / "spider"
OFFICIAL_RUNNER = """
import sys, nltk, runpy
try:
    nltk.word_tokenize("a b")
except LookupError:
    _t = nltk.word_tokenize
    nltk.word_tokenize = lambda s, *a, **k: _t(s, preserve_line=True)
sys.path.insert(0, sys.argv[1])
sys.argv = ["evaluation.py"] + sys.argv[2:]
runpy.run_path(sys.path[0] + "/evaluation.py", run_name="__main__")
"""


def time_official(official: Path, dataset: Dataset, split: str, preds: list[str], items: list) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        gold = Path(tmp, "gold.sql")
        pred = Path(tmp, "pred.sql")
        gold.write_text("".join(f"{i.query}\t{i.db_id}\n" for i in items))
        pred.write_text("".join(p.replace("\n", " ") + "\n" for p in preds))
        cmd = [
            sys.executable,
            "-c",
            OFFICIAL_RUNNER,
            str(official),
            "--gold",
            str(gold),
            "--pred",
            str(pred),
            "--db",
            str(dataset.root / "database"),
            "--table",
            str(dataset.tables_path),
            "--etype",
            "all",
        ]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=tmp)
        return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    default = SHARED_SPIDER if SHARED_SPIDER.is_dir() else DEMO_DATASET
    ap.add_argument("--dataset", type=Path, default=default)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--official", type=Path, help="checkout of test-suite-sql-eval, to time it on the same file")
    ap.add_argument("--workers", type=int, default=os.cpu_count())
    args = ap.parse_args()

    dataset = Dataset(args.dataset)
    split = dataset.load_split(args.split)
    items = [i for i in split.items if dataset.has_database(i.db_id)]
    gold = [i.query for i in items]
    perturbed = perturb_all(gold, seed=7)
    print(
        f"dataset={dataset.root} items={len(items)} (skipped {len(split.items) - len(items)} with a missing database)"
    )
    with Scorer(dataset, workers=args.workers) as scorer:
        t0 = time.perf_counter()
        first = scorer.score(items, gold)
        t1 = time.perf_counter()
        second = scorer.score(items, perturbed)
        t2 = time.perf_counter()
    all_gold = summarize(first)["all"]
    all_pert = summarize(second)["all"]
    print(
        f"gold:      {t1 - t0:.3f}s  exec {all_gold['exec']}/{all_gold['n']}  exact {all_gold['exact']}/{all_gold['n']}"
    )
    print(
        f"perturbed: {t2 - t1:.3f}s  exec {all_pert['exec']}/{all_pert['n']}  exact {all_pert['exact']}/{all_pert['n']}"
    )
    rate = len(items) / (t2 - t1)
    line = f"items_per_s={rate:.0f}"
    if args.official:
        official_s = time_official(args.official, dataset, args.split, perturbed, items)
        print(f"official evaluator on the perturbed file: {official_s:.3f}s")
        line += f" ratio_official={official_s / (t2 - t1):.1f}"
    print(line)


if __name__ == "__main__":
    main()
