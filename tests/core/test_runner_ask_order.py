"""Through the runner and the test server: a prefix-reusing profile gets its requests grouped by database."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from tests.core.test_runner import collect
from tests.servers.openai import OpenAITestServer
from workbench.core.data.dataset import Dataset
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import load_template
from workbench.core.runs.events import ItemScored, RunFinished, RunStarted
from workbench.core.runs.runner import Runner
from workbench.core.runs.runspec import VariantSpec
from workbench.core.runs.variant_builder import build_variants
from workbench.core.store import Store
from workbench.paths import DEMO_DATASET

PLAIN_SYSTEM = "You translate questions"  # how the plain prompt starts (the few-shot template starts otherwise)
_QUESTION = re.compile(r"^Question:\s*(.+?)\s*$", re.MULTILINE)


def interleaved_demo(folder: Path, per_db: int = 3) -> Path:
    """The demo with a dev split that takes turns between its databases (library, clinic, ..., library, ...)."""
    dest = folder / "demo-interleaved"
    dest.mkdir()
    for name in ("tables.json", "train.json"):
        shutil.copy(DEMO_DATASET / name, dest / name)
    (dest / "database").symlink_to(DEMO_DATASET / "database")
    by_db: dict[str, list[dict]] = {}
    for row in json.loads((DEMO_DATASET / "dev.json").read_text()):
        by_db.setdefault(row["db_id"], []).append(row)
    rows = [by_db[db][k] for k in range(per_db) for db in by_db]
    (dest / "dev.json").write_text(json.dumps(rows))
    return dest


def asked(server: OpenAITestServer, dataset: Dataset) -> list[tuple[str, str, int]]:
    """(variant, db_id, item index) of each chat request the server received, in arrival order."""
    where = {i.question: (i.db_id, i.index) for i in dataset.load_split("dev").items}
    out = []
    for body in server.requests:
        text = "\n".join(m["content"] for m in body["messages"])
        variant = "plain" if text.startswith(PLAIN_SYSTEM) else "same-db"
        out.append((variant, *where[_QUESTION.findall(text)[-1]]))
    return out


def of(order: list[tuple[str, str, int]], variant: str) -> list[tuple[str, int]]:
    return [(db, index) for name, db, index in order if name == variant]


def runner(server: OpenAITestServer, store: Store, dataset: Dataset, name: str, reuses: bool, **kw: object) -> Runner:
    profile = EndpointProfile("p", server.base_url, "gold", concurrency=1, timeout_s=2.0, reuses_prompt_prefix=reuses)
    few_shot = load_template("few_shot")
    version = store.version_for(few_shot.name, few_shot.text)
    specs = [VariantSpec("plain", "p", None), VariantSpec("same-db", "p", version, "same_db", 2)]
    return Runner(store, dataset, "dev", build_variants(specs, dataset, store, {"p": profile}), name, **kw)  # type: ignore[arg-type]


def sql_by_item(store: Store, run_id: int) -> dict[tuple[int, int], tuple[str, bool | None]]:
    return {(r.variant_id, r.item_index): (r.predicted_sql, r.exec_match) for r in store.scores(run_id)}


@pytest.mark.server(record_requests=True)
def test_requests_arrive_grouped_by_database_only_when_the_profile_reuses_the_prefix(
    openai_server: OpenAITestServer, tmp_path: Path
) -> None:
    dataset = Dataset(interleaved_demo(tmp_path))
    dbs = [i.db_id for i in dataset.load_split("dev").items]
    databases = list(dict.fromkeys(dbs))
    assert len(databases) == 4 and dbs[:5] == [*databases, databases[0]]  # the split takes turns

    plain_store = Store(tmp_path / "plain.sqlite")
    plain = collect(runner(openai_server, plain_store, dataset, "dataset-order", reuses=False))
    in_dataset_order = asked(openai_server, dataset)
    assert len(in_dataset_order) == 24  # 12 items, 2 variants side by side, each in dataset order
    for variant in ("plain", "same-db"):
        assert [index for _, index in of(in_dataset_order, variant)] == list(range(12))
    assert {name for name, _, _ in in_dataset_order[:4]} == {"plain", "same-db"}  # interleaved

    openai_server.requests.clear()
    grouped_store = Store(tmp_path / "grouped.sqlite")
    grouped = collect(runner(openai_server, grouped_store, dataset, "shared-prefix", reuses=True))
    order = asked(openai_server, dataset)
    # the variants take turns (all of "plain", then all of "same-db"); each asks one database after another
    assert [name for name, _, _ in order] == ["plain"] * 12 + ["same-db"] * 12
    for variant in ("plain", "same-db"):
        variant_order = of(order, variant)
        seen = [db for k, (db, _) in enumerate(variant_order) if k == 0 or variant_order[k - 1][0] != db]
        assert seen == databases
        assert [index for _, index in variant_order] == [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]
    assert sorted(order) == sorted(in_dataset_order)  # the same requests, only asked in another order

    # what is stored and reported is the same, keyed by item
    for events in (plain, grouped):
        assert isinstance(events[-1], RunFinished) and (events[-1].state, events[-1].scored) == ("completed", 24)
    assert sql_by_item(plain_store, plain[-1].run_id) == sql_by_item(grouped_store, grouped[-1].run_id)  # type: ignore[union-attr]


@pytest.mark.server(record_requests=True, latency_s=0.02)
def test_a_resumed_run_asks_only_what_is_left_still_grouped(openai_server: OpenAITestServer, tmp_path: Path) -> None:
    dataset = Dataset(interleaved_demo(tmp_path))
    store = Store(tmp_path / "w.sqlite")
    first = collect(runner(openai_server, store, dataset, "r", reuses=True), stop_after=5)
    assert isinstance(first[-1], RunFinished) and first[-1].state == "cancelled"
    done_pairs = store.done_items(first[-1].run_id)
    done = {i for _, i in done_pairs}  # all of the first variant: the second waits for its turn
    assert len(done_pairs) == 5 and done == {0, 4, 8, 1, 5}
    first_asked = asked(openai_server, dataset)
    assert [i for _, _, i in first_asked[:5]] == [0, 4, 8, 1, 5]  # the first database's three, then the next's

    openai_server.requests.clear()
    rest = collect(runner(openai_server, store, dataset, "r", reuses=True, resume=True))
    assert isinstance(rest[0], RunStarted) and rest[0].already_done == 5
    again = asked(openai_server, dataset)
    plain_left = [2, 6, 10, 3, 7, 11, 9]  # what is left, grouped again: the third database's, the fourth's, 9
    names = [name for name, _, _ in again]
    assert names == sorted(names, key=lambda name: name != "plain") and names.count("same-db") == 12  # plain first
    scored_plain = [e.index for e in rest if isinstance(e, ItemScored) and e.variant == "plain"]
    assert scored_plain == plain_left  # the done ones skipped
    sent_plain = [i for _, i in of(again, "plain")]
    assert sent_plain in (plain_left, plain_left[:-1])  # 9, in flight at the cancel, may have its answer stored
    assert isinstance(rest[-1], RunFinished) and rest[-1].state == "completed"
    assert sum(isinstance(e, ItemScored) for e in first + rest) == 24
