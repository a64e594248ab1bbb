"""Hostile predictions against the demo: slow, huge and tricky statements, each bounded.

    python bench/hostile.py [--time-limit 2] [--memory-limit 1024]

Each statement is scored by a whole `workbench score` process on a one-question split
(its own wall time, minus that of a harmless statement, is what the statement cost), and
then all of them together in one file, as a user would run it. The memory of the whole
process tree (the command and its workers) is sampled throughout; the databases are
hashed before and after. Last line:
max_statement_s=.. peak_rss_mb=.. db_unchanged=yes|no tracebacks=N
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from workbench.paths import DEMO_DATASET  # noqa: E402

_COUNT = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT {n}) "
HOSTILE = {
    "substring search in one C call": "SELECT instr(hex(zeroblob(4000000)), hex(zeroblob(10000)) || '1')",
    "longer substring search": "SELECT instr(hex(zeroblob(5000000)), hex(zeroblob(40000)) || '1') FROM book",
    "endless recursion": "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT max(x) FROM c",
    "cross join bomb": "SELECT * FROM book a, book b, book c, book d, book e",
    "many rows of large values": _COUNT.format(n=60) + "SELECT zeroblob(9000000) FROM c",
    "wide rows of large values": "SELECT " + ", ".join(["zeroblob(9000000)"] * 40) + " FROM book LIMIT 3",
    "modest join, big strings": "SELECT a.title || hex(zeroblob(200000)) FROM book a, book b, book c",
    "group_concat bomb": _COUNT.format(n=10_000_000) + "SELECT group_concat(x) FROM c",
    "sort of a huge set": _COUNT.format(n=5_000_000) + "SELECT x FROM c ORDER BY random() LIMIT 1",
    "blob too big": "SELECT randomblob(2000000000)",
    "printf width": "SELECT printf('%.*c', 1000000000, 'x')",
    "5 MB line": "SELECT " + "1 + " * 1_250_000 + "1",
    "whitespace run": " " * 100_000 + "SELECT 1",
    "comment run": "/*" * 40_000 + " SELECT 1",
    "stacked write": "SELECT 1; DROP TABLE books",
    "attach": "ATTACH DATABASE '/tmp/evil.db' AS evil",
    "writable schema": "PRAGMA writable_schema = 1",
    "vacuum into": "VACUUM INTO '/tmp/evil-copy.db'",
}
HARMLESS = "SELECT count(*) FROM book"


def tree_rss_mb(pid: int) -> float:
    """Resident memory of ``pid`` and all its descendants, in MB (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat[1])
        rss[int(entry.name)] = int(stat[21]) * os.sysconf("SC_PAGE_SIZE")
    members, grew = {pid}, True
    while grew:
        grew = False
        for child, parent in parents.items():
            if parent in members and child not in members:
                members.add(child)
                grew = True
    return sum(rss.get(p, 0) for p in members) / 1e6


def run(cmd: list[str], peak: list[float]) -> tuple[float, str]:
    """Run ``cmd`` to its end, sampling its process tree's memory; (wall seconds, stderr)."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], tree_rss_mb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    done.set()
    sampler.join()
    return time.monotonic() - started, err


def digest(folder: Path) -> str:
    sha = hashlib.sha256()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            sha.update(path.name.encode() + path.read_bytes())
    return sha.hexdigest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--time-limit", type=float, default=2.0)
    ap.add_argument("--memory-limit", type=int, default=1024)
    args = ap.parse_args()
    before = digest(DEMO_DATASET / "database")
    dev = json.loads((DEMO_DATASET / "dev.json").read_text())
    question = next(d for d in dev if d["db_id"] == "library")
    score = [sys.executable, "-m", "workbench", "score", "--dataset", str(DEMO_DATASET), "--time-limit",
             str(args.time_limit), "--memory-limit", str(args.memory_limit)]  # fmt: skip
    peak = [0.0]
    tracebacks = 0
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        split = folder / "one.json"
        split.write_text(json.dumps([question]))

        def one(sql: str, name: str) -> tuple[float, str]:
            preds = folder / "one.sql"
            preds.write_text(sql.replace("\n", " ") + "\n")
            jsonl = folder / "one.jsonl"
            wall, err = run([*score, "--split", str(split), "--predictions", str(preds), "--jsonl", str(jsonl)], peak)
            reason = json.loads(jsonl.read_text())["reason"] if jsonl.exists() else err.strip()
            return wall, reason

        baseline = min(one(HARMLESS, "harmless")[0] for _ in range(3))
        costs = {}
        for name, sql in HOSTILE.items():
            wall, reason = one(sql, name)
            costs[name] = max(0.0, wall - baseline)
            print(f"{costs[name]:6.2f} s  {name:<32} {reason[:110]}", flush=True)
        # all of them at once, among the real questions, as one predictions file (two workers)
        preds = [d["query"] for d in dev]
        slots = [i for i, d in enumerate(dev) if d["db_id"] == "library"]
        for slot, sql in zip(slots, HOSTILE.values(), strict=False):
            preds[slot] = sql
        together = folder / "all.sql"
        together.write_text("\n".join(p.replace("\n", " ") for p in preds) + "\n")
        out = folder / "all.jsonl"
        wall, err = run([*score, "--split", "dev", "--predictions", str(together), "--jsonl", str(out)], peak)
        tracebacks += err.count("Traceback")
        verdicts = [json.loads(line) for line in out.read_text().splitlines()]
        right = sum(bool(v["exec_match"]) for i, v in enumerate(verdicts) if i not in slots[: len(HOSTILE)])
        print(f"all together: {wall:.1f} s for {len(verdicts)} items; the {len(verdicts) - len(HOSTILE)} others: "
              f"{right} right")  # fmt: skip
    unchanged = digest(DEMO_DATASET / "database") == before
    print(f"baseline (a harmless statement, whole command): {baseline:.2f} s; limits: {args.time_limit:g} s, "
          f"{args.memory_limit} MB per worker")  # fmt: skip
    print(
        f"max_statement_s={max(costs.values()):.2f} peak_rss_mb={peak[0]:.0f} "
        f"db_unchanged={'yes' if unchanged else 'no'} tracebacks={tracebacks}"
    )


if __name__ == "__main__":
    main()
