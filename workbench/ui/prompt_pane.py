"""The Prompt pane: edit a template, see its problems as you type, save versions, diff them."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QColor, QFont, QFontDatabase, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from workbench.core.prompts.context import ContextBuilder
from workbench.core.prompts.templates import PromptTemplate, TemplateProblem
from workbench.core.store.prompt_versions import unified_diff
from workbench.ui.highlighters import DiffHighlighter, TemplateHighlighter
from workbench.ui.session import AppSession

CHECK_DELAY_MS = 300


def monospace() -> QFont:
    return QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)


class PromptPane(QWidget):
    version_saved = Signal(int)

    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.base_version: int | None = None  # the version the editor text started from
        self.problem: TemplateProblem | None = None

        self.templates = QComboBox()
        self.templates.setToolTip("Template family: every saved edit becomes a new version of it")
        self.save_button = QPushButton("Save version")
        self.save_button.setToolTip("Save the editor's text as a new version (Ctrl+S)")
        self.dirty_label = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel("Template"))
        top.addWidget(self.templates, 1)
        top.addWidget(self.dirty_label)
        top.addWidget(self.save_button)

        self.editor = QPlainTextEdit()
        self.editor.setFont(monospace())
        self.editor.setTabChangesFocus(False)
        self.highlighter = TemplateHighlighter(self.editor.document())
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.versions = QListWidget()
        self.versions.setToolTip("Versions of this template; select one to see its diff to the editor")
        self.diff = QPlainTextEdit()
        self.diff.setReadOnly(True)
        self.diff.setFont(monospace())
        self.diff.setPlaceholderText("Select a version to compare it with the editor")
        self.diff_highlighter = DiffHighlighter(self.diff.document())
        self.open_button = QPushButton("Open in editor")
        self.open_button.setToolTip("Load the selected version into the editor (undo brings the text back)")

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(QLabel("Versions"))
        side_layout.addWidget(self.versions, 1)
        side_layout.addWidget(self.open_button)
        side_layout.addWidget(QLabel("Diff: selected version → editor"))
        side_layout.addWidget(self.diff, 3)  # the diff grows with the dock; the versions list less
        editor_box = QWidget()
        editor_layout = QVBoxLayout(editor_box)
        editor_layout.setContentsMargins(0, 0, 0, 0)
        editor_layout.addWidget(self.editor, 1)
        editor_layout.addWidget(self.status)
        splitter = QSplitter()
        splitter.addWidget(editor_box)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

        self._check_timer = QTimer(self)
        self._check_timer.setSingleShot(True)
        self._check_timer.setInterval(CHECK_DELAY_MS)
        self._check_timer.timeout.connect(self.check)
        self.editor.textChanged.connect(self._text_changed)
        self.templates.currentTextChanged.connect(self.load_template)
        self.versions.currentItemChanged.connect(lambda *_: self.show_diff())
        self.open_button.clicked.connect(self.open_selected)
        self.save_button.clicked.connect(self.save)
        session.templates_changed.connect(self._refresh_versions)
        session.question_selected.connect(lambda _: self._check_timer.start())
        session.closing.connect(self._check_timer.stop)  # a check due later would read the closed store
        self.reload_templates()

    # --- templates and versions ---------------------------------------------------------
    def reload_templates(self) -> None:
        names = sorted({v.name for v in self.session.store.prompt_versions()})
        current = self.templates.currentText()
        self.templates.blockSignals(True)
        self.templates.clear()
        self.templates.addItems(names)
        self.templates.blockSignals(False)
        preferred = current or (self._spec_template() or "completion_few_shot")
        self.templates.setCurrentText(preferred if preferred in names else names[0])
        self.load_template(self.templates.currentText())

    def _spec_template(self) -> str | None:
        for spec in self.session.specs:
            return self.session.store.prompt_version(spec.template_version).name
        return None

    def load_template(self, name: str) -> None:
        versions = self.session.store.prompt_versions(name)
        if not versions:
            return
        latest = versions[-1]
        self.base_version = latest.id
        self.editor.setPlainText(latest.body)  # a fresh document: undo starts here
        self._refresh_versions()
        self.check()

    def _refresh_versions(self) -> None:
        name = self.templates.currentText()
        self.versions.blockSignals(True)
        self.versions.clear()
        labels = self.session.store.version_labels()
        for v in reversed(self.session.store.prompt_versions(name)):
            marks = " (editor's base)" if v.id == self.base_version else ""
            parent = f", from {labels[v.parent_id]}" if v.parent_id in labels else ""
            item = QListWidgetItem(f"{labels[v.id]}  {v.created_at[:16].replace('T', ' ')}{parent}{marks}")
            item.setData(Qt.ItemDataRole.UserRole, v.id)
            self.versions.addItem(item)
        self.versions.blockSignals(False)
        self._update_dirty()

    def selected_version(self) -> int | None:
        item = self.versions.currentItem()
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def show_diff(self) -> None:
        version_id = self.selected_version()
        if version_id is None:
            self.diff.clear()
            return
        old = self.session.store.prompt_version(version_id).body
        label = self.session.store.version_label(version_id)
        text = unified_diff(old, self.editor.toPlainText(), label, "editor")
        self.diff.setPlainText(text or "(no differences)")
        first = next((n for n, line in enumerate(text.splitlines()) if line.startswith(("+", "-"))
                      and not line.startswith(("+++", "---"))), 0)  # fmt: skip
        block = self.diff.document().findBlockByNumber(max(0, first - 2))  # the first change, with context above
        cursor = QTextCursor(block)
        self.diff.setTextCursor(cursor)
        self.diff.verticalScrollBar().setValue(self.diff.verticalScrollBar().maximum())
        self.diff.ensureCursorVisible()  # scrolled back up to it: the change at the top of the box

    def open_selected(self) -> None:
        version_id = self.selected_version()
        if version_id is None:
            return
        body = self.session.store.prompt_version(version_id).body
        cursor = self.editor.textCursor()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(body)  # one undoable edit
        self.base_version = version_id
        self._refresh_versions()

    # --- checking and saving ------------------------------------------------------------
    def _text_changed(self) -> None:
        self._update_dirty()
        self._check_timer.start()

    def _update_dirty(self) -> None:
        base = self.base_version
        changed = base is None or self.session.store.prompt_version(base).body != self.editor.toPlainText()
        self.dirty_label.setText("● unsaved changes" if changed else "saved")
        self.dirty_label.setStyleSheet("color: #a4500b" if changed else "color: #2d7d2d")

    def check(self) -> TemplateProblem | None:
        """Parse the template and render it for the selected question; mark the first problem."""
        if self.session.closed:
            return None
        text = self.editor.toPlainText()
        name = self.templates.currentText() or "template"
        try:
            template = PromptTemplate.parse(name, text)
            self.problem = None
            tokens = self._trial_render(template)
        except TemplateProblem as exc:
            self.problem = exc
            tokens = ""
        self._mark(self.problem)
        if self.problem is None:
            self.status.setText(f"✓ template renders{tokens}")
            self.status.setStyleSheet("color: #2d7d2d")
        else:
            self.status.setText(f"✗ line {self.problem.line}, column {self.problem.column}: {self.problem.detail}")
            self.status.setStyleSheet("color: #9b1c1c")
        self.save_button.setEnabled(self.problem is None)
        self.show_diff()
        return self.problem

    def _trial_render(self, template: PromptTemplate) -> str:
        """Render with the selected question so undefined names show up while typing."""
        session, index = self.session, self.session.current_index
        if session.dataset is None or index is None:
            return ""
        item = session.item(index)
        if item is None:
            return ""
        context = ContextBuilder(session.dataset, template).build(item)
        return f" for question {index} ({context.token_label}, without examples)"

    def _mark(self, problem: TemplateProblem | None) -> None:
        selections = []
        if problem is not None:
            block = self.editor.document().findBlockByNumber(max(0, problem.line - 1))
            selection = QTextEdit.ExtraSelection()
            fmt = QTextCharFormat()
            fmt.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
            fmt.setUnderlineColor(QColor("#d00000"))
            fmt.setBackground(QColor("#fff0f0"))
            selection.format = fmt  # type: ignore[attr-defined]
            cursor = QTextCursor(block)
            cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock, QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor  # type: ignore[attr-defined]
            selections.append(selection)
        self.editor.setExtraSelections(selections)

    def save(self) -> int | None:
        """Save the editor as a new version of the template (Ctrl+S). None when it has a problem."""
        if self.check() is not None:
            return None
        name = self.templates.currentText()
        version = self.session.save_template(name, self.editor.toPlainText(), self.base_version)
        self.base_version = version
        self._refresh_versions()
        self.version_saved.emit(version)
        return version
