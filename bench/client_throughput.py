"""Client throughput: 2,000 requests at concurrency 64 against the test server with 200 ms latency.

    python bench/client_throughput.py [--requests 2000] [--concurrency 64] [--latency 0.2]
                                      [--promptfoo PATH] [--memory-requests 20000]

Goes through our whole path: the endpoint client (openai.AsyncOpenAI with the aiohttp
transport), the rate limiter and concurrency gate, and a store write per answer. The
test server runs in its own process. Prints achieved requests/s, the ratio to the
theoretical concurrency / latency, and our CPU per request. With a promptfoo binary
(``--promptfoo``, or one installed under bench/.promptfoo or on PATH) it runs promptfoo
against the same server at the same concurrency and prints our throughput over its.
Then a long run at zero latency checks that memory stays flat (answers go to the store).
Last line: ratio_theoretical=X ratio_promptfoo=Y cpu_ms_per_request=Z
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import ServerProcess  # noqa: E402
from workbench.core.endpoints.client import ChatRequest, EndpointClient  # noqa: E402
from workbench.core.endpoints.profiles import EndpointProfile  # noqa: E402
from workbench.core.store import Store  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * 4096 / 1e6


async def drive(base_url: str, n: int, concurrency: int, store: Store, samples: dict[int, float] | None = None) -> None:
    profile = EndpointProfile(
        name="bench", base_url=base_url, model="gold", concurrency=concurrency, rpm=1_000_000, timeout_s=30
    )
    async with EndpointClient(profile) as client:
        source = iter(range(n))
        done = 0

        async def worker() -> None:
            nonlocal done
            for i in source:
                request = ChatRequest(
                    ({"role": "user", "content": f"Question: bench question {i}"},), {"temperature": 0}
                )
                answer = await client.complete(request)
                store.save_response(
                    request.fingerprint(profile),
                    profile.base_url,
                    profile.model,
                    list(request.messages),
                    request.params,
                    True,
                    answer.text,
                    answer.prompt_tokens,
                    answer.completion_tokens,
                    answer.latency_s * 1000,
                    answer.attempts,
                )
                done += 1
                if samples is not None and done % 2000 == 0:
                    samples[done] = rss_mb()

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def find_promptfoo(explicit: str | None) -> str | None:
    for candidate in (
        explicit,
        str(ROOT / "bench" / ".promptfoo" / "node_modules" / ".bin" / "promptfoo"),
        shutil.which("promptfoo"),
    ):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def run_promptfoo(binary: str, base_url: str, n: int, concurrency: int) -> float:
    """Requests per second promptfoo achieves on the same server (start-up included, as a user sees it)."""
    with tempfile.TemporaryDirectory() as tmp:
        tests = [{"vars": {"q": f"promptfoo question {i}"}} for i in range(n)]
        config = {
            "prompts": ["Question: {{q}}"],
            "providers": [
                {"id": "openai:chat:gold", "config": {"apiBaseUrl": base_url, "apiKey": "none", "temperature": 0}}
            ],
            "tests": tests,
        }
        cfg = Path(tmp, "promptfooconfig.json")
        cfg.write_text(json.dumps(config))
        env = {
            "PROMPTFOO_DISABLE_TELEMETRY": "1",
            "PROMPTFOO_DISABLE_UPDATE": "1",
            "PROMPTFOO_CACHE_ENABLED": "false",
            "HOME": tmp,
            "PATH": "/usr/bin:/bin:/usr/local/bin",
        }
        start = time.perf_counter()
        subprocess.run(
            [
                binary,
                "eval",
                "-c",
                str(cfg),
                "-j",
                str(concurrency),
                "--no-cache",
                "--no-write",
                "--no-progress-bar",
                "-o",
                str(Path(tmp, "out.json")),
            ],
            cwd=tmp,
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=600,
        )
        return n / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--promptfoo", help="path to a promptfoo binary")
    ap.add_argument("--memory-requests", type=int, default=20000)
    args = ap.parse_args()

    server = ServerProcess("--latency", str(args.latency))
    try:
        with tempfile.TemporaryDirectory() as tmp:
            store = Store(Path(tmp, "bench.sqlite"))
            cpu0, t0 = time.process_time(), time.perf_counter()
            asyncio.run(drive(server.base_url, args.requests, args.concurrency, store))
            wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
            store.close()
        stats = server.stats()
        promptfoo = find_promptfoo(args.promptfoo)
        pf_rate = run_promptfoo(promptfoo, server.base_url, args.requests, args.concurrency) if promptfoo else None
        pf_received = server.stats()["succeeded"] - stats["succeeded"]
    finally:
        server.stop()
    rate = args.requests / wall
    theoretical = args.concurrency / args.latency
    cpu_ms = 1000 * cpu / args.requests
    print(
        f"ours: {args.requests} requests in {wall:.2f}s = {rate:.0f}/s (theoretical {theoretical:.0f}/s), "
        f"CPU {cpu_ms:.2f} ms/request, server saw {stats['received']} (duplicates {stats['duplicates']})"
    )
    if pf_rate is not None:
        print(
            f"promptfoo: {pf_rate:.0f}/s at the same concurrency (start-up included); "
            f"the server answered {pf_received} of its requests"
        )
        if pf_received < args.requests:
            pf_rate = None  # it did not really run: no ratio from a failed run
    else:
        print("promptfoo: not found (npm install --prefix bench/.promptfoo promptfoo, or pass --promptfoo)")

    if args.memory_requests:
        server = ServerProcess("--latency", "0")
        try:
            with tempfile.TemporaryDirectory() as tmp:
                store = Store(Path(tmp, "memory.sqlite"))
                samples: dict[int, float] = {}
                asyncio.run(drive(server.base_url, args.memory_requests, args.concurrency, store, samples))
                store.close()
        finally:
            server.stop()
        first = samples[min(samples)]
        print("memory (MB RSS by requests done): " + ", ".join(f"{k}: {v:.0f}" for k, v in sorted(samples.items())))
        print(f"memory growth from {min(samples)} to {max(samples)} requests: {samples[max(samples)] - first:+.1f} MB")

    pf = f"{rate / pf_rate:.2f}" if pf_rate else "n/a"
    print(f"ratio_theoretical={rate / theoretical:.2f} ratio_promptfoo={pf} cpu_ms_per_request={cpu_ms:.2f}")


if __name__ == "__main__":
    main()
