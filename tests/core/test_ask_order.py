"""The order a run asks in for a server that reuses the prompt prefix: grouped, stable, resumable."""

from __future__ import annotations

import json
from pathlib import Path

from workbench.core.data.dataset import Dataset, Item
from workbench.core.endpoints.profiles import ProfileStore
from workbench.core.prompts.context import PLAIN_PROMPT, ContextBuilder, load_template
from workbench.core.runs.ask_order import in_turn, shared_prefix_order, to_ask
from workbench.local.prompts import local_profile


def item(index: int, db: str, question: str = "") -> Item:
    return Item(index, db, question or f"q{index}", "SELECT 1", "dev.json")


INTERLEAVED = [item(0, "shop"), item(1, "clinic"), item(2, "shop"), item(3, "library"), item(4, "clinic"),
               item(5, "shop")]  # fmt: skip


def by_db(i: Item) -> tuple[str]:
    return (i.db_id,)


def test_items_are_grouped_by_database_in_order_of_first_appearance_and_stable_within() -> None:
    ordered = shared_prefix_order(INTERLEAVED, by_db)
    assert [i.index for i in ordered] == [0, 2, 5, 1, 4, 3]
    assert shared_prefix_order(ordered, by_db) == ordered  # already grouped: unchanged
    assert shared_prefix_order([], by_db) == []


def test_within_a_database_items_sharing_leading_examples_come_together() -> None:
    paths = {0: ("shop", "a", "b"), 1: ("shop", "c", "b"), 2: ("shop", "a", "d"), 3: ("clinic", "x"),
             4: ("shop", "a", "b"), 5: ("shop", "a")}  # fmt: skip
    ordered = shared_prefix_order(INTERLEAVED, lambda i: paths[i.index])
    # shop first (item 0); within it "a" before "c"; under "a": 5 ends there (a shorter prompt), then b (0, 4), d
    assert [i.index for i in ordered] == [5, 0, 4, 2, 1, 3]


def test_resume_skips_items_done_and_orders_only_the_rest() -> None:
    assert [i.index for i in to_ask(INTERLEAVED, {0, 4})] == [1, 2, 3, 5]  # dataset order without a path
    assert [i.index for i in to_ask(INTERLEAVED, {0, 4}, by_db)] == [1, 2, 5, 3]  # clinic (1) comes first now
    assert to_ask(INTERLEAVED, {i.index for i in INTERLEAVED}, by_db) == []


def test_variants_sending_to_one_prefix_reusing_server_share_a_lane() -> None:
    servers = {"a": "local", "b": None, "c": "local", "d": "other", "e": None}
    assert in_turn("abcde", servers.get) == [["a", "c"], ["b"], ["d"], ["e"]]
    assert in_turn("be", servers.get) == [["b"], ["e"]]  # nothing shared: every variant on its own, side by side


def test_the_local_profile_reuses_the_prefix_and_a_saved_profile_may_say_so(tmp_path: Path) -> None:
    assert local_profile("http://127.0.0.1:1/v1", "m").reuses_prompt_prefix
    path = tmp_path / "profiles.json"
    saved = [{"name": "mine", "base_url": "http://127.0.0.1:8080/v1", "model": "m", "reuses_prompt_prefix": True},
             {"name": "cloud", "base_url": "https://api.example.com/v1", "model": "m"}]  # fmt: skip
    path.write_text(json.dumps(saved))
    profiles = ProfileStore(path).load()
    assert profiles["mine"].reuses_prompt_prefix and not profiles["cloud"].reuses_prompt_prefix


def test_prefix_path_holds_the_database_schema_subset_and_examples(demo_path: Path) -> None:
    dataset = Dataset(demo_path)
    dev = dataset.load_split("dev").items
    library = [i for i in dev if i.db_id == "library"][:3]
    same_db = ContextBuilder(dataset, load_template("completion_few_shot"), "same_db", k=3)
    paths = {same_db.prefix_path(i) for i in library}
    assert len(paths) == 1  # the same three examples for every question of the database
    (path,) = paths
    assert path[0] == "library" and len(path) == 4 and all(part[0] == "library" for part in path[1:])
    assert ContextBuilder(dataset, PLAIN_PROMPT).prefix_path(library[0]) == ("library",)
    bm25 = ContextBuilder(dataset, PLAIN_PROMPT, "bm25", k=2)
    assert {len(bm25.prefix_path(i)) for i in library} == {3}
    assert len({bm25.prefix_path(i) for i in library}) > 1  # examples picked per question
    linked = ContextBuilder(dataset, PLAIN_PROMPT, schema_tables=1).prefix_path(library[0])
    assert linked[0] == "library" and linked[1] and set(linked[1]) <= {t.name for t in dataset.schema("library").tables}
