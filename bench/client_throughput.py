"""Client throughput: the endpoint client against the test server, at two sizes, with promptfoo beside it.

    python bench/client_throughput.py [--requests 2000] [--concurrency 64] [--latency 0.2]
                                      [--promptfoo PATH] [--memory-requests 20000]
                                      [--cluster-requests 100000] [--cluster-concurrency 1024]
                                      [--cluster-latency 1.0]

Goes through our whole path: the endpoint client (the openai SDK on the lean HTTP/1.1
transport, core/endpoints/lean_client.py and http_transport.py), the concurrency gate and rate window, and a
store write per answer. The test server runs in its own process.

1. 64 in flight, 200 ms latency: requests/s, the ratio to the theoretical concurrency / latency,
   and our CPU per request. CPU per request is the process's CPU from the first request sent to
   the last answer stored, over the requests: the client is built and one warm-up request
   answered before the clock starts (the SDK's imports, a one-time second or so, printed).
   With a promptfoo binary (``--promptfoo``, or one installed under bench/.promptfoo or on
   PATH) promptfoo runs against the same server at the same concurrency; ours over its is
   ``ratio_promptfoo``. For scale, the bare transport (no SDK, no store: the floor any client
   of this machine pays for its sockets) is timed on the same server too, and printed.
2. Memory at zero latency over ``--memory-requests`` (answers go to the store).
3. Cluster-sized: ``--cluster-concurrency`` requests in flight against a server that takes
   ``--cluster-latency`` per answer (the shape of a vLLM cluster), ``--cluster-requests`` in all,
   no rate window (such a cluster has none). ``cluster_ratio`` is the achieved rate over the
   theoretical; ``cluster_rss_growth_mb`` the growth of our resident memory from the first 10%
   of the requests to the end. 0 skips it.
Goals (issue 21): ratio_theoretical >= 0.95, ratio_promptfoo >= 2.5, cpu_ms_per_request <= 0.6,
cluster_ratio >= 0.9 with memory flat.
Last line: ratio_theoretical=.. ratio_promptfoo=.. cpu_ms_per_request=.. cluster_ratio=.. cluster_rss_growth_mb=..
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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.conftest import ServerProcess  # noqa: E402
from workbench.core.endpoints.client import ChatRequest, EndpointClient  # noqa: E402
from workbench.core.endpoints.profiles import EndpointProfile  # noqa: E402
from workbench.core.runs.collector import run_collector  # noqa: E402
from workbench.core.store import Store  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * 4096 / 1e6


@dataclass
class Measured:
    wall_s: float = 0.0
    cpu_s: float = 0.0
    setup_s: float = 0.0  # building the client (the SDK's import), before the clock starts
    rss_by_done: dict[int, float] = field(default_factory=dict)


async def timed_pool(n: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> Measured:
    """``one(0)`` .. ``one(n - 1)``, ``concurrency`` at a time, timed (wall and CPU) from the first start."""
    source = iter(range(n))

    async def worker() -> None:
        for i in source:
            await one(i)

    measured = Measured()
    cpu0, t0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    measured.wall_s, measured.cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
    return measured


async def drive(
    base_url: str, n: int, concurrency: int, store: Store, rpm: int = 1_000_000, sample_every: int = 0
) -> Measured:
    """``n`` requests, ``concurrency`` at a time, each answer saved to ``store``; timed from the first send."""
    profile = EndpointProfile(
        name="bench", base_url=base_url, model="gold", concurrency=concurrency, rpm=rpm, timeout_s=60
    )
    setup = time.perf_counter()
    rss_by_done: dict[int, float] = {}
    done = 0
    async with EndpointClient(profile) as client:
        warm_up = ChatRequest(({"role": "user", "content": "Question: warm-up"},), {"temperature": 0})
        await client.complete(warm_up)  # the SDK imports much of itself on its first request
        setup_s = time.perf_counter() - setup

        async def one(i: int) -> None:
            nonlocal done
            request = ChatRequest(({"role": "user", "content": f"Question: bench question {i}"},), {"temperature": 0})
            key = request.fingerprint(profile)
            answer = await client.complete(request, key)
            store.save_response(
                key,
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
            if sample_every and done % sample_every == 0:
                rss_by_done[done] = rss_mb()

        with run_collector(concurrency):  # as a run has it (core/runs/runner.py)
            measured = await timed_pool(n, concurrency, one)
    measured.setup_s, measured.rss_by_done = setup_s, rss_by_done
    return measured


def in_store(n: int, concurrency: int, base_url: str, rpm: int = 1_000_000, sample_every: int = 0) -> Measured:
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp, "bench.sqlite"))
        try:
            return asyncio.run(drive(base_url, n, concurrency, store, rpm, sample_every))
        finally:
            store.close()


async def bare_transport(base_url: str, n: int, concurrency: int) -> Measured:
    """The floor: the same requests through the lean transport alone, without the SDK, our client or the store."""
    import httpx

    from workbench.core.endpoints.http_transport import LeanTransport

    transport, url = LeanTransport(), base_url + "/chat/completions"
    body = json.dumps({"model": "gold", "messages": [{"role": "user", "content": "Question: bare"}]}).encode()

    async def one(i: int) -> None:
        request = httpx.Request("POST", url, content=body, headers={"Content-Type": "application/json"})
        json.loads((await transport.handle_async_request(request)).content)

    measured = await timed_pool(n, concurrency, one)
    await transport.aclose()
    return measured


def raise_open_files(needed: int) -> None:
    """A cluster-sized run holds a socket per request in flight: lift the soft limit to what it needs."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


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
    ap.add_argument("--cluster-requests", type=int, default=100_000)
    ap.add_argument("--cluster-concurrency", type=int, default=1024)
    ap.add_argument("--cluster-latency", type=float, default=1.0)
    args = ap.parse_args()

    server = ServerProcess("--latency", str(args.latency))
    try:
        ours = in_store(args.requests, args.concurrency, server.base_url)
        stats = server.stats()
        bare = asyncio.run(bare_transport(server.base_url, args.requests, args.concurrency))
        before_promptfoo = server.stats()["succeeded"]
        promptfoo = find_promptfoo(args.promptfoo)
        pf_rate = run_promptfoo(promptfoo, server.base_url, args.requests, args.concurrency) if promptfoo else None
        pf_received = server.stats()["succeeded"] - before_promptfoo
    finally:
        server.stop()
    rate = args.requests / ours.wall_s
    theoretical = args.concurrency / args.latency
    cpu_ms = 1000 * ours.cpu_s / args.requests
    print(
        f"ours: {args.requests} requests in {ours.wall_s:.2f}s = {rate:.0f}/s (theoretical {theoretical:.0f}/s), "
        f"CPU {cpu_ms:.2f} ms/request, server saw {stats['received']} (duplicates {stats['duplicates']}); "
        f"building the client and a warm-up request took {ours.setup_s:.2f}s"
    )
    print(
        f"bare transport (no SDK, no store), same server: {args.requests / bare.wall_s:.0f}/s, "
        f"CPU {1000 * bare.cpu_s / args.requests:.2f} ms/request"
    )
    if pf_rate is not None:
        print(
            f"promptfoo: {pf_rate:.0f}/s at the same concurrency (start-up included); "
            f"the server answered {pf_received} of its requests"
        )
        if pf_received < args.requests:
            pf_rate = None  # it did not really run: no ratio from a failed run
        else:  # the goal's reach: no client passes concurrency / latency; and ours with its start-up, as promptfoo's is
            with_setup = args.requests / (ours.wall_s + ours.setup_s)
            print(
                f"promptfoo: a client at the theoretical rate would be {theoretical / pf_rate:.2f}x promptfoo here; "
                f"ours with building the client included is {with_setup:.0f}/s, {with_setup / pf_rate:.2f}x"
            )
    else:
        print("promptfoo: not found (npm install --prefix bench/.promptfoo promptfoo, or pass --promptfoo)")

    if args.memory_requests:
        server = ServerProcess("--latency", "0")
        try:
            samples = in_store(args.memory_requests, args.concurrency, server.base_url, sample_every=2000).rss_by_done
        finally:
            server.stop()
        first = samples[min(samples)]
        print("memory (MB RSS by requests done): " + ", ".join(f"{k}: {v:.0f}" for k, v in sorted(samples.items())))
        print(f"memory growth from {min(samples)} to {max(samples)} requests: {samples[max(samples)] - first:+.1f} MB")

    cluster = "cluster_ratio=n/a cluster_rss_growth_mb=n/a"
    if args.cluster_requests:
        n, inflight = args.cluster_requests, args.cluster_concurrency
        raise_open_files(2 * inflight + 256)
        server = ServerProcess("--latency", str(args.cluster_latency))
        try:
            big = in_store(n, inflight, server.base_url, rpm=0, sample_every=max(1, n // 10))
            big_stats = server.stats()
            floor_n = min(n, 20 * inflight)
            big_bare = asyncio.run(bare_transport(server.base_url, floor_n, inflight))
        finally:
            server.stop()
        big_rate, big_theoretical = n / big.wall_s, inflight / args.cluster_latency
        samples = big.rss_by_done
        growth = samples[max(samples)] - samples[min(samples)]
        print(
            f"cluster: {n} requests, {inflight} in flight, {args.cluster_latency:g} s latency: "
            f"{big.wall_s:.1f}s = {big_rate:.0f}/s (theoretical {big_theoretical:.0f}/s), "
            f"CPU {1000 * big.cpu_s / n:.2f} ms/request, server max in flight {big_stats.get('max_in_flight')}"
        )
        print(
            f"cluster, bare transport (no SDK, no store), {floor_n} requests: {floor_n / big_bare.wall_s:.0f}/s, "
            f"CPU {1000 * big_bare.cpu_s / floor_n:.2f} ms/request"
        )
        by_done = ", ".join(f"{k}: {v:.0f}" for k, v in sorted(samples.items()))
        print(f"cluster memory (MB RSS by requests done): {by_done}")
        cluster = f"cluster_ratio={big_rate / big_theoretical:.2f} cluster_rss_growth_mb={growth:.1f}"

    pf = f"{rate / pf_rate:.2f}" if pf_rate else "n/a"
    print(f"ratio_theoretical={rate / theoretical:.2f} ratio_promptfoo={pf} cpu_ms_per_request={cpu_ms:.2f} {cluster}")


if __name__ == "__main__":
    main()
