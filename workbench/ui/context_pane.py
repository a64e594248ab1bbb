"""The Context pane: what one variant sends for the selected question, exactly."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

from workbench.core.prompts.templates import TemplateProblem
from workbench.ui.session import AppSession


class ContextPane(QWidget):
    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self.variant = QComboBox()
        self.variant.setToolTip("Whose prompt to show")
        self.tokens = QLabel()
        top = QHBoxLayout()
        top.addWidget(QLabel("Variant"))
        top.addWidget(self.variant, 1)
        top.addWidget(self.tokens)
        self.view = QTextBrowser()
        self.view.setOpenLinks(False)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        self.variant.currentIndexChanged.connect(lambda _: self.refresh())
        session.specs_changed.connect(self._reload_variants)
        session.question_selected.connect(lambda _: self.refresh())
        session.templates_changed.connect(self.refresh)
        session.dataset_changed.connect(self.refresh)
        self._reload_variants()

    def _reload_variants(self) -> None:
        current = self.variant.currentText()
        self.variant.blockSignals(True)
        self.variant.clear()
        self.variant.addItems([s.name for s in self.session.specs])
        if current:
            self.variant.setCurrentText(current)
        self.variant.blockSignals(False)
        self.refresh()

    def refresh(self) -> None:
        session = self.session
        specs = {s.name: s for s in session.specs}
        spec = specs.get(self.variant.currentText())
        if spec is None or session.current_index is None:
            self.view.setHtml("<p><i>Select a question and a variant.</i></p>")
            self.tokens.clear()
            return
        try:
            context = session.preview(spec, session.current_index)
        except (TemplateProblem, ValueError) as exc:
            self.view.setHtml(f"<p style='color:#9b1c1c'><b>Cannot render this prompt:</b> {html.escape(str(exc))}</p>")
            self.tokens.clear()
            return
        self.tokens.setText(context.token_label)
        parts = [f"<p><b>{html.escape(spec.name)}</b>: {html.escape(spec.profile)}, retrieval "
                 f"{html.escape(spec.retrieval)}{f' (k={spec.k})' if spec.retrieval != 'none' else ''}, "
                 f"mode {spec.mode}</p>"]  # fmt: skip
        if spec.retrieval == "skeleton":
            parts.append("<p><i>HyDE: examples are chosen after a draft answer, at run time; shown without.</i></p>")
        if context.examples:
            rows = "".join(
                f"<tr><td align='right'>{e.score:.2f}</td><td>{html.escape(e.item.question)}</td>"
                f"<td><code>{html.escape(e.item.query)}</code></td></tr>"
                for e in context.examples
            )
            parts.append(f"<h4>Retrieved examples</h4><table cellspacing='4'><tr><th>score</th><th>question</th>"
                         f"<th>SQL</th></tr>{rows}</table>")  # fmt: skip
        if spec.schema_tables:
            tables = ", ".join(f"{html.escape(t)} ({s:.2f})" for t, s in context.schema_tables)
            parts.append(f"<h4>Schema linking (top {spec.schema_tables})</h4><p>{tables}</p>")
        parts.append("<h4>Messages sent</h4>")
        for message in context.messages:
            parts.append(
                f"<p style='margin-bottom:0'><b>{html.escape(message['role'])}</b></p>"
                f"<pre style='background:#f4f4f4; margin-top:2px'>{html.escape(message['content'])}</pre>"
            )
        self.view.setHtml("".join(parts))
