"""Whole commands, as users feel them: `workbench score` against the official evaluator, same file, same run.

    python bench/score_e2e.py --official CHECKOUT [--spider DIR] [--repeat 5] [--gold-predictions]

Both sides run as fresh processes on the same gold file (Spider dev items whose database
is present) and the same predictions (a seeded perturbation of the gold queries, or the
gold itself with --gold-predictions). The official side is test-suite-sql-eval's
``evaluation.py --etype all`` (execution and exact match, like ours); without NLTK's punkt
data its tokenizer runs with ``preserve_line=True`` (see bench/official_agreement.py).

- cold: our gold cache emptied (a fresh XDG cache folder), a new process. The OS page
  cache cannot be dropped without root, so the database files may already be in memory:
  cold means "our caches empty, new process", not "nothing in RAM".
- warm: the same command again, the gold cache filled by the cold run.
Each repetition runs official, cold and warm back to back; figures are medians. One
untimed run of each side first compiles bytecode (the environment's
PYTHONDONTWRITEBYTECODE is dropped for both). ``startup_ms`` is our process's time from
its start (the kernel's start time) to the first database opened (WORKBENCH_TRACE_STARTUP).

Last line: ``cold_ratio=.. warm_ratio=.. startup_ms=..`` (ratio = official wall / ours).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.perturb import perturb_all
from bench.score_speed import OFFICIAL_RUNNER
from workbench.core.data.dataset import Dataset

ROOT = Path(__file__).resolve().parents[1]
# beside the checkout (../shared), or beside the folder of worktrees it sits in
PLACES = (ROOT.parent / "shared" / "spider", ROOT.parents[1] / "shared" / "spider")
SHARED_SPIDER = next((p for p in PLACES if p.is_dir()), PLACES[0])
STARTUP_LINE = re.compile(r"startup: first database opened (\d+) ms after process start")


def write_inputs(dataset: Dataset, folder: Path, gold_predictions: bool) -> tuple[Path, Path, int]:
    items = [i for i in dataset.load_split("dev").items if dataset.has_database(i.db_id)]
    gold, pred = folder / "gold.sql", folder / "pred.sql"
    gold.write_text("".join(f"{i.query}\t{i.db_id}\n" for i in items))
    queries = [i.query for i in items] if gold_predictions else perturb_all([i.query for i in items], seed=7)
    pred.write_text("".join(q.replace("\n", " ") + "\n" for q in queries))
    return gold, pred, len(items)


def timed(cmd: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str, str]:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {' '.join(cmd[:4])} ...\n{done.stderr[-2000:]}")
    return wall, done.stdout, done.stderr


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", type=Path, required=True, help="checkout of test-suite-sql-eval")
    ap.add_argument(
        "--spider", type=Path, default=SHARED_SPIDER, help="Spider folder (tables.json, dev.json, database/)"
    )
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--gold-predictions", action="store_true", help="predict the gold queries themselves")
    args = ap.parse_args()
    if not (args.official / "evaluation.py").is_file():
        raise SystemExit(f"{args.official}: no evaluation.py; expected a checkout of test-suite-sql-eval")

    dataset = Dataset(args.spider)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory(prefix="score-e2e-") as tmp:
        folder = Path(tmp)
        gold, pred, n = write_inputs(dataset, folder, args.gold_predictions)
        cache = folder / "cache"
        ours_env = {**env, "XDG_CACHE_HOME": str(cache), "WORKBENCH_TRACE_STARTUP": "1"}
        ours = [sys.executable, "-m", "workbench", "score", "--dataset", str(args.spider), "--split", str(gold),
                "--predictions", str(pred)]  # fmt: skip
        official = [sys.executable, "-c", OFFICIAL_RUNNER, str(args.official.resolve()), "--gold", str(gold),
                    "--pred", str(pred), "--db", str(args.spider / "database"), "--table",
                    str(args.spider / "tables.json"), "--etype", "all"]  # fmt: skip
        print(f"{n} items ({'gold' if args.gold_predictions else 'perturbed, seed 7'} predictions), {args.repeat} reps")
        timed(official, env, folder)  # compile bytecode, untimed
        timed(ours, ours_env, ROOT)
        runs: dict[str, list[float]] = {"official": [], "cold": [], "warm": []}
        startup: list[float] = []
        for rep in range(args.repeat):
            wall, official_out, _ = timed(official, env, folder)
            runs["official"].append(wall)
            for kind in ("cold", "warm"):
                if kind == "cold":
                    shutil.rmtree(cache, ignore_errors=True)
                wall, out, err = timed(ours, ours_env, ROOT)
                runs[kind].append(wall)
                found = STARTUP_LINE.search(err)
                if found:
                    startup.append(float(found.group(1)))
            print(f"rep {rep + 1}: " + "  ".join(f"{k} {v[-1]:.2f}s" for k, v in runs.items()))
        last_all = next((line for line in out.splitlines() if line.startswith("all ")), "")
        print(f"ours (last warm run): {last_all.strip()}")
        figures = [line.split() for line in official_out.splitlines() if line.startswith(("execution", "exact match"))]
        print("official (last run): " + "; ".join(f"{' '.join(f[:-5])} {f[-1]}" for f in figures))
    med = {k: statistics.median(v) for k, v in runs.items()}
    print("medians: " + "  ".join(f"{k} {v:.2f}s" for k, v in med.items()) + f"  load {os.getloadavg()[0]:.1f}")
    print("goals: warm_ratio >= 10, cold_ratio >= 6, startup_ms <= 150")
    startup_ms = statistics.median(startup) if startup else float("nan")
    print(
        f"cold_ratio={med['official'] / med['cold']:.1f} warm_ratio={med['official'] / med['warm']:.1f} "
        f"startup_ms={startup_ms:.0f}"
    )


if __name__ == "__main__":
    main()
