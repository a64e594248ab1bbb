"""File ▸ Open dataset with a database file and its question file; Open recent remembers both kinds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings

from tests.own_data import make_shop, write_questions_csv
from tests.ui.conftest import OpenWindow, close_window
from workbench.paths import DEMO_DATASET
from workbench.ui.session import AppPaths


def test_a_database_and_its_questions_open_and_are_remembered(
    open_window: OpenWindow, qtbot: Any, app_paths: AppPaths, tmp_path: Path
) -> None:
    db, questions = make_shop(tmp_path / "data"), write_questions_csv(tmp_path / "data" / "q.csv")
    window = open_window()
    assert window.open_chosen_dataset(db, questions)  # what the two file dialogs chose
    session = window.session
    assert session.dataset is not None and session.dataset.questions == questions
    assert session.split == "q" and [i.db_id for i in session.items] == ["shop"] * 3
    assert window.questions.table.model().rowCount() == 3
    assert window.open_chosen_dataset(DEMO_DATASET / "tables.json", None)  # a Spider folder, by its tables.json
    assert session.dataset.root == DEMO_DATASET and session.dataset.questions is None
    window._fill_recent_menu()
    assert [a.text() for a in window.recent_menu.actions()] == [str(DEMO_DATASET), f"{db}  +  q.csv"]
    window.recent_menu.actions()[1].trigger()  # back to the database, with its question file
    assert session.dataset.root == db and session.dataset.questions == questions and len(session.items) == 3
    close_window(qtbot, window)  # what the next start reopens: the database with its question file
    settings = QSettings(str(app_paths.ui_settings), QSettings.Format.IniFormat)
    assert (settings.value("dataset"), settings.value("questions"), settings.value("split")) == (
        str(db),
        str(questions),
        "q",
    )


def test_a_bad_question_file_is_shown_and_nothing_changes(open_window: OpenWindow, tmp_path: Path) -> None:
    db = make_shop(tmp_path / "data")
    bad = tmp_path / "data" / "bad.csv"
    bad.write_text("question\nHow many?\n")
    window = open_window()
    before = window.session.dataset
    assert not window.open_chosen_dataset(db, bad)
    assert window.session.dataset is before
    assert "header has no column 'sql'" in window.last_problem
