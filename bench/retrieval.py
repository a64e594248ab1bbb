"""Retrieval speed: build each recipe's index over a training split, then time top-10 queries.

    python bench/retrieval.py [--spider DIR] [--queries N]

Uses Spider's train split (7,000 questions, ../shared/spider by default when present),
else the demo train split. Queries are the dev questions (for skeleton: the dev gold SQL
stands in for a model's draft, which is what the timing needs). Retrieval only, no
rendering. Last line: bm25_ms=.. skeleton_ms=.. masked_ms=.. (per query, top 10).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.core.data.dataset import Dataset
from workbench.core.retrieval.registry import make_retriever
from workbench.paths import DEMO_DATASET

SHARED_SPIDER = Path(__file__).resolve().parents[2] / "shared" / "spider"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spider", type=Path, default=SHARED_SPIDER if SHARED_SPIDER.is_dir() else DEMO_DATASET)
    ap.add_argument("--queries", type=int, default=1000)
    args = ap.parse_args()
    dataset = Dataset(args.spider)
    train = dataset.load_split("train").items
    queries = dataset.load_split("dev").items[: args.queries]
    print(f"dataset {dataset.root}: {len(train)} training questions, {len(queries)} queries")
    results = {}
    for name in ("bm25", "skeleton", "masked"):
        retriever = make_retriever(name, dataset.schema)
        assert retriever is not None
        start = time.perf_counter()
        retriever.fit(train)
        built = time.perf_counter() - start
        start = time.perf_counter()
        for item in queries:
            retriever.retrieve(item, 10, draft=item.query if retriever.name == "skeleton" else None)
        per_query = 1000 * (time.perf_counter() - start) / len(queries)
        results[retriever.name] = per_query
        print(f"{retriever.name:<9} index built in {built:.2f}s, {per_query:.3f} ms/query (top 10)")
    print(f"bm25_ms={results['bm25']:.3f} skeleton_ms={results['skeleton']:.3f} masked_ms={results['masked']:.3f}")


if __name__ == "__main__":
    main()
