"""Whether a large stored run and a long run history stay usable in the desktop app.

    python bench/large_run.py [--items 100000] [--history 500]

Makes a synthetic Spider-format dataset of ``--items`` questions (the demo's questions repeated,
over the demo's few small SQLite databases) and a store holding ``--history`` small runs on it
(2 variants x 20 items each) and then one run of every item for 3 variants, all scored, written
through the ``Store`` API in bulk. Then the app starts in a fresh process (offscreen), as a user
would start it after that run: it reopens the dataset and its last run.

Figures: ``open_s`` is the time from starting the app's process to the window shown with that
run's accuracy table (one row per variant) and question list (every item) filled and an event-loop
turn taken; ``rss_mb`` the process's peak resident memory by then; ``history_open_s`` the time the
Runs pane takes to list every run on the dataset again from the store (nothing remembered) and
draw, right after the open. Goals: open_s < 2, rss_mb < 500, history_open_s < 1. Last line:
``open_s=.. rss_mb=.. history_open_s=..``. Each run's line also says how long what the app learns
of the split in threads at load took to come in after the open (``ui/gold_overlay.py``: every gold
query's hardness and problems; those threads compete with the window for the interpreter) and the
Runs pane's time once they are done.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench._app_process import add_child_arguments, rss_mb, run_child, run_in_app, write_figures  # noqa: E402

VARIANTS = ("zero-shot", "few-shot", "linked")
HISTORY_ITEMS = 20
HARDNESS = ("easy", "medium", "hard", "extra")


def child(args: argparse.Namespace) -> None:
    """The app: start as after the big run, wait for its panes to fill, then list the history again."""
    import asyncio

    from workbench.ui.app import build
    from workbench.ui.gold_overlay import GoldOverlay
    from workbench.ui.session import AppPaths

    work = Path(args.work)
    paths = AppPaths(Path(args.store), work / "profiles.json", Path(args.settings))
    figures: dict[str, float] = {}
    items = int(args.items)

    async def main() -> None:
        session, window = build(paths)  # reopens the dataset and its last run
        window.show()
        await asyncio.sleep(0)  # a turn of the event loop: the window drawn
        questions, accuracy = window.questions.model, window.accuracy.model
        assert questions.rowCount() == items, f"question list: {questions.rowCount()} rows, not {items}"
        assert accuracy.rowCount() == len(VARIANTS), f"accuracy table: {accuracy.rowCount()} rows"
        figures["open_s"] = time.time() - args.spawned_at
        figures["rss_now_mb"], figures["rss_mb"] = rss_mb()
        figures["done"] = session.results.done
        window.docks["runs"].raise_()
        await asyncio.sleep(0)
        runs = window.runs
        start = time.perf_counter()
        runs.read_runs.clear()  # nothing remembered: every run read from the store again
        runs.refresh()
        await asyncio.sleep(0)
        figures["history_open_s"] = time.perf_counter() - start
        figures["history_runs"] = runs.model.rowCount()
        figures["rss_end_mb"], figures["rss_peak_end_mb"] = rss_mb()
        settling = time.perf_counter()
        await GoldOverlay.of(session).settle()  # the split's gold hardness and problems, learnt in threads
        figures["settle_s"] = time.perf_counter() - settling + figures["history_open_s"]
        start = time.perf_counter()
        runs.read_runs.clear()
        runs.refresh()
        await asyncio.sleep(0)
        figures["history_settled_s"] = time.perf_counter() - start
        await session.shutdown()

    run_in_app(main)
    write_figures(args.out, figures)


def make_store(path: Path, dataset: Path, items: int, history: int) -> None:
    """``history`` small runs on ``dataset`` and then one of ``items`` items for every variant, all scored."""
    from workbench.core.data.dataset import Dataset
    from workbench.core.store import ScoreRow, Store

    data = Dataset(dataset)
    db_ids = [item.db_id for item in data.load_split("dev").items]
    store = Store(path)
    dataset_id = store.dataset_id(data.identity[0], data.name)
    ids = [store.variant_id(name, "bench", "bench-model", {"temperature": 0}) for name in VARIANTS]
    rng = random.Random(21)

    def rows(variant_id: int, count: int, right: float) -> list[ScoreRow]:
        out = []
        for i in range(count):
            ok = rng.random() < right
            failed = not ok and rng.random() < 0.05
            out.append(
                ScoreRow(
                    variant_id=variant_id,
                    item_index=i,
                    db_id=db_ids[i % len(db_ids)],
                    status="failed" if failed else "scored",
                    reason="" if ok else "rows differ",
                    hardness=None if failed else HARDNESS[i % 4],
                    exec_match=None if failed else ok,
                    exact_match=None if failed else ok and rng.random() < 0.8,
                    predicted_sql=None if failed else f"SELECT count(*) FROM singer WHERE singer_id > {i}",
                    request_hash=f"{variant_id:04d}{i:012d}",
                    cost=0.0001,
                    latency_ms=120.0,
                    prompt_tokens=900,
                    completion_tokens=30,
                )
            )
        return out

    for k in range(history):
        run_id = store.create_run(f"history-{k}", dataset_id, "dev", HISTORY_ITEMS, ids[:2])
        for variant_id in ids[:2]:
            store.save_scores(run_id, rows(variant_id, HISTORY_ITEMS, 0.6))
        store.set_state(run_id, "completed")
    run_id = store.create_run("large", dataset_id, "dev", None, ids)
    for k, variant_id in enumerate(ids):
        store.save_scores(run_id, rows(variant_id, items, 0.5 + 0.1 * k))
    asyncio.run(store.finish_run(run_id, "completed", data.hardness_levels))  # as the runner ends a run
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--history", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=1)
    add_child_arguments(ap, "--store", "--settings")
    args = ap.parse_args()
    if args.child:
        child(args)
        return
    from tests.conftest import repeated_demo

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        dataset = repeated_demo(folder, args.items)
        store = folder / "workspace.sqlite"
        make_store(store, dataset, args.items, args.history)
        settings = folder / "ui.ini"
        settings.write_text(f"[General]\ndataset={dataset.resolve()}\nsplit=dev\n")
        print(f"made {args.items} items, {args.history + 1} runs in {time.perf_counter() - started:.1f} s")
        options = {"--store": str(store), "--settings": str(settings), "--items": str(args.items)}
        runs = [run_child(__file__, folder, options) for _ in range(args.repeat)]
    for k, r in enumerate(runs, 1):
        print(
            f"run {k}: open {r['open_s']:.2f} s ({r['done']:.0f} rows), rss {r['rss_now_mb']:.0f} MB "
            f"(peak {r['rss_mb']:.0f}); history of {r['history_runs']:.0f} runs in {r['history_open_s']:.2f} s; "
            f"at the end rss {r['rss_end_mb']:.0f} MB (peak {r['rss_peak_end_mb']:.0f}); the gold overlay in "
            f"{r['settle_s']:.1f} s more, the history then in {r['history_settled_s']:.2f} s"
        )
    print(f"goals: open_s < 2, rss_mb < 500, history_open_s < 1 (the worst of {len(runs)} fresh processes)")
    worst = {key: max(r[key] for r in runs) for key in ("open_s", "rss_mb", "history_open_s")}
    print(f"open_s={worst['open_s']:.2f} rss_mb={worst['rss_mb']:.0f} history_open_s={worst['history_open_s']:.2f}")


if __name__ == "__main__":
    main()
