"""The Prompt pane as a user edits: versions, diffs, undo, problems marked where they are."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from tests.ui.conftest import OpenWindow, await_in_qt
from workbench.core.runs.runspec import VariantSpec
from workbench.ui.main_window import MainWindow
from workbench.ui.prompt_pane import CHECK_DELAY_MS


def type_at_end(qtbot: Any, window: MainWindow, text: str) -> None:
    editor = window.prompt.editor
    window.docks["prompt"].raise_()
    editor.setFocus()
    editor.moveCursor(QTextCursor.MoveOperation.End)
    for k, line in enumerate(text.split("\n")):  # QTest types no "\n": Return starts a line
        if k:
            qtbot.keyClick(editor, Qt.Key.Key_Return)
        qtbot.keyClicks(editor, line)


def test_edit_save_diff_and_undo(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    session, pane = window.session, window.prompt
    old = session.latest_version("few_shot")
    session.set_specs(
        [VariantSpec("a", "local", old, "bm25"), VariantSpec("b", "local", session.latest_version("zero_shot"))]
    )
    pane.templates.setCurrentText("few_shot")
    count = pane.versions.count()
    type_at_end(qtbot, window, "\nAnswer with one query.")
    assert "unsaved" in pane.dirty_label.text()
    qtbot.keyClick(pane.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # Ctrl+S: a new version
    versions = session.store.prompt_versions("few_shot")
    new = versions[-1]
    assert pane.versions.count() == count + 1 and new.parent_id == old
    assert new.body.endswith("Answer with one query.") and "+Answer with one query." in new.diff
    assert pane.dirty_label.text() == "saved"
    # the variant that used the edited version moves to the new one; the other stays
    assert [s.template_version for s in session.specs] == [new.id, session.latest_version("zero_shot")]
    # diff of an older version against the editor
    pane.versions.setCurrentRow(pane.versions.count() - 1)  # the oldest
    assert "+Answer with one query." in pane.diff.toPlainText()
    # saving unchanged text makes no new version
    assert pane.save() == new.id and len(session.store.prompt_versions("few_shot")) == len(versions)
    # undo takes the typing back (Ctrl+Z), redo brings it again
    qtbot.keyClick(pane.editor, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert not pane.editor.toPlainText().endswith("Answer with one query.")
    assert window.actions_by_name["Redo"].isEnabled()
    window.actions_by_name["Redo"].trigger()
    assert pane.editor.toPlainText().endswith("Answer with one query.")


def test_open_an_old_version_is_one_undoable_edit(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    pane = window.prompt
    pane.templates.setCurrentText("zero_shot")
    type_at_end(qtbot, window, "\nv2 line")
    pane.save()
    latest = pane.editor.toPlainText()
    pane.versions.setCurrentRow(pane.versions.count() - 1)
    pane.open_selected()
    assert "v2 line" not in pane.editor.toPlainText()
    pane.editor.undo()
    assert pane.editor.toPlainText() == latest


def test_broken_templates_are_marked_and_never_saved(open_window: OpenWindow, qtbot: Any) -> None:
    window = open_window()
    pane = window.prompt
    pane.templates.setCurrentText("zero_shot")
    count = len(window.session.store.prompt_versions("zero_shot"))
    pane.editor.setPlainText("### user\nQuestion: {{ question }}\nSchema: {{ schema.create_table\n")
    problem = pane.check()
    assert problem is not None and problem.line == 3
    assert pane.status.text().startswith("✗ line 3") and not pane.save_button.isEnabled()
    (selection,) = pane.editor.extraSelections()
    assert selection.cursor.block().blockNumber() == 2  # the underline sits on the broken line
    assert pane.save() is None and len(window.session.store.prompt_versions("zero_shot")) == count

    pane.editor.setPlainText("### user\nQuestion: {{ qestion }}\n")  # a misspelt name fails the trial render
    problem = pane.check()
    assert problem is not None and problem.line == 2 and "qestion" in pane.status.text()

    pane.editor.setPlainText("### user\nQuestion: {{ question }}\n{{ schema }}\n")
    assert pane.check() is None and pane.status.text().startswith("✓") and pane.editor.extraSelections() == []
    qtbot.waitUntil(lambda: pane.save_button.isEnabled())


def test_versions_are_labelled_within_their_template(open_window: OpenWindow) -> None:
    window = open_window()
    pane = window.prompt
    pane.templates.setCurrentText("zero_shot")
    pane.editor.setPlainText(pane.editor.toPlainText() + "\nOne query only.\n")
    new = pane.save()
    assert new is not None and new > 2  # the store's ids are global: other templates' versions came first
    texts = [pane.versions.item(k).text() for k in range(pane.versions.count())]
    assert texts[0].startswith("v2 ") and ", from v1" in texts[0] and texts[1].startswith("v1 ")
    pane.versions.setCurrentRow(1)
    assert pane.diff.toPlainText().startswith("--- v1\n")


def test_a_check_due_when_the_session_closes_never_runs(open_window: OpenWindow, qtbot: Any) -> None:
    """The edit's delayed check would read the closed store (an exception in the Qt loop, seen in CI)."""
    window = open_window()
    pane = window.prompt
    pane.editor.insertPlainText("-- one more line\n")  # starts the delayed check
    window.session.select_question(window.session.items[1].index)  # and so does a new question
    await_in_qt(qtbot, window.session.shutdown())
    qtbot.wait(CHECK_DELAY_MS + 200)  # pytest-qt fails the test on an exception raised in the loop meanwhile
    assert pane.check() is None
