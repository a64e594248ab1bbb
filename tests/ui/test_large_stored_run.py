"""A large stored run shown in the window is read lazily: the question list marks verdicts from the packed codes,
and only the shown question's rows (and a hovered verdict's) are read whole from the store."""

from __future__ import annotations

import gc
import random
from pathlib import Path

from PySide6.QtCore import Qt

from tests.conftest import repeated_demo
from tests.core.test_results_lazy import _random_rows
from tests.ui.conftest import OpenWindow
from workbench.core.data.dataset import Dataset
from workbench.core.store import ScoreRow, Store
from workbench.ui.questions_pane import FIXED, MARKS
from workbench.ui.session import AppPaths

ITEMS = 3000


def _alive_rows() -> int:
    gc.collect()
    return sum(isinstance(o, ScoreRow) for o in gc.get_objects())


def test_a_stored_run_of_thousands_shows_with_its_rows_left_in_the_store(
    open_window: OpenWindow, app_paths: AppPaths, tmp_path: Path
) -> None:
    root = repeated_demo(tmp_path, ITEMS)
    store = Store(app_paths.store)
    dataset = store.dataset_id(Dataset(root).identity[0], "demo-large")
    ids = [store.variant_id(name, "e", "m", {}) for name in ("first", "second")]
    run_id = store.create_run("big", dataset, "dev", None, ids)
    rng = random.Random(3)
    for variant_id in ids:
        store.save_scores(run_id, _random_rows(variant_id, ITEMS, rng))
    store.set_state(run_id, "completed")
    expected = {(r.variant_id, r.item_index): r for r in store.scores(run_id)}
    store.close()
    window = open_window()
    session = window.session
    session.open_dataset(root)
    before = _alive_rows()
    statements: list[str] = []
    session.store.db.set_trace_callback(statements.append)
    session.load_run(session.store.run("big"))
    session.store.db.set_trace_callback(None)
    model = window.questions.model
    assert model.rowCount() == ITEMS and window.accuracy.model.rowCount() == 2
    whole = [s for s in statements if "predicted_sql" in s and "FROM scores" in s]  # full rows: the shown question's
    assert whole and all("item_index = " in s for s in whole), whole
    assert len(whole) <= 2
    assert _alive_rows() - before <= 2  # 6,000 rows summed and listed, the shown question's two held
    for row in range(0, ITEMS, 97):  # the marks are the rows' verdicts
        index = model.rows[row]
        for column, variant_id in ((len(FIXED), ids[0]), (len(FIXED) + 1, ids[1])):
            stored = expected[(variant_id, index)]
            label = {"failed": "failed", "unscorable": "unscorable"}.get(stored.status)
            label = label or ("✓ correct" if stored.exec_match else "✗ wrong")
            assert model.index(row, column).data() == MARKS[label]
    tip = model.index(5, len(FIXED)).data(Qt.ItemDataRole.ToolTipRole)  # a hovered verdict reads its row's reason
    assert tip.endswith(expected[(ids[0], model.rows[5])].reason)
