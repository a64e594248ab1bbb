"""Test-suite accuracy against single-database execution accuracy, on a suite we build.

    python bench/testsuite.py [--spider DIR [--limit N]] [--per-db N] [--seed K] [--workers N]

For the demo (and Spider dev with ``--spider``, its first ``--limit`` questions): builds a
distilled test suite into a temporary copy (``workbench testsuite generate``'s code, timed),
reports its size, then scores a perturbed prediction file (``bench/perturb.perturb_plausibly``:
wrong rewrites that one database often cannot tell from gold) on the copy, and counts the
EX-correct items the suite rejects (EX right, TS wrong). One line per dataset; the last line,
for Spider when it ran, else for the demo, is
``ex=.. ts=.. false_positives_caught=.. build_s=..``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.perturb import perturb_plausibly
from workbench.core.data.dataset import Dataset
from workbench.core.scoring import Scorer
from workbench.core.scoring.testsuite import SuiteOptions, generate_suite
from workbench.paths import DEMO_DATASET


def measure(name: str, root: Path, options: SuiteOptions, seed: int) -> str:
    with tempfile.TemporaryDirectory(prefix="bench-testsuite-") as scratch:
        out = Path(scratch) / root.name
        start = time.monotonic()
        reports = generate_suite(Dataset(root), out, options, lambda line: print(f"  {line}", file=sys.stderr))
        build_s = time.monotonic() - start
        kept = [out / "database" / r.db_id / f for r in reports for f in r.kept]
        size_kb = sum(p.stat().st_size for p in kept) / 1024
        dataset = Dataset(out)
        items = dataset.load_split(options.split).items[: options.limit]
        preds = perturb_plausibly([i.query for i in items], seed=seed)
        with Scorer(dataset, workers=options.workers) as scorer:
            verdicts = [v for v in scorer.score(items, preds) if v.status == "scored"]
    n = len(verdicts)
    ex = sum(bool(v.exec_match) for v in verdicts)
    judged = [v for v in verdicts if v.ts_match is not None]
    ts = sum(bool(v.ts_match) for v in judged)
    caught = sum(bool(v.exec_match) and v.ts_match is False for v in judged)
    pairs, told, alone = (sum(getattr(r, k) for r in reports) for k in ("pairs", "by_suite", "by_original"))
    print(f"{name}: suite {len(kept)} databases for {len(reports)} schemas ({size_kb:.0f} KiB); neighbours told "
          f"apart {alone} by the originals alone, {told} with the suite, of {pairs}; scored {n} items "
          f"({len(judged)} with a TS verdict): EX {ex}, TS {ts}")  # fmt: skip
    return (f"ex={ex / n if n else 0:.4f} ts={ts / len(judged) if judged else 0:.4f} "
            f"false_positives_caught={caught} build_s={build_s:.1f}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spider", type=Path, help="a Spider folder (tables.json, dev.json, database/)")
    ap.add_argument("--limit", type=int, default=150, help="Spider dev's first N questions (default 150)")
    ap.add_argument("--per-db", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7, help="seed of the perturbation and of the suite")
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    args = ap.parse_args()
    options = SuiteOptions(per_db=args.per_db, seed=args.seed, workers=args.workers)
    last = measure("demo", DEMO_DATASET, options, args.seed)
    print(f"demo: {last}")
    if args.spider is not None:
        last = measure("spider dev", args.spider, SuiteOptions(per_db=args.per_db, seed=args.seed,
                       workers=args.workers, limit=args.limit), args.seed)  # fmt: skip
        print(f"spider dev (first {args.limit}): {last}")
    print(last)


if __name__ == "__main__":
    main()
