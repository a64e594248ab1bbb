"""The Context pane: what one variant sends for the selected question, exactly.

The context is built off the event loop (``AppSession.preview``); a result that arrives
after the selection moved on is dropped.
"""

from __future__ import annotations

import asyncio
import html

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTextBrowser, QVBoxLayout, QWidget

from workbench.core.data.engine_setting import ENGINE_LABELS
from workbench.core.prompts.context import Context
from workbench.core.prompts.templates import TemplateProblem
from workbench.core.runs.runspec import VariantSpec
from workbench.ui.session import AppSession


class ContextPane(QWidget):
    def __init__(self, session: AppSession) -> None:
        super().__init__()
        self.session = session
        self._generation = 0  # bumped by each refresh: older builds are not shown
        self._builds: set[asyncio.Task[None]] = set()
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
        session.closing.connect(self._drop_builds)
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
        self._generation += 1
        if spec is None or session.current_index is None:
            self.view.setHtml("<p><i>Select a question and a variant.</i></p>")
            self.tokens.clear()
            return
        self.tokens.setText("building …")
        task = asyncio.ensure_future(self._build(spec, session.current_index, self._generation))
        self._builds.add(task)
        task.add_done_callback(self._builds.discard)

    async def settle(self) -> None:
        """Wait for the contexts being built (tests and screenshots)."""
        while self._builds:
            await asyncio.gather(*list(self._builds), return_exceptions=True)

    def _drop_builds(self) -> None:
        """The session is closing: show nothing more (a build's thread ends on its own)."""
        self._generation += 1
        for task in list(self._builds):
            task.cancel()

    async def _build(self, spec: VariantSpec, index: int, generation: int) -> None:
        try:
            context = await self.session.preview(spec, index)
        except (TemplateProblem, ValueError) as exc:
            if generation == self._generation:
                self.view.setHtml(
                    f"<p style='color:#9b1c1c'><b>Cannot render this prompt:</b> {html.escape(str(exc))}</p>"
                )
                self.tokens.clear()
            return
        if generation == self._generation:
            self._show(spec, context)

    def _show(self, spec: VariantSpec, context: Context) -> None:
        self.tokens.setText(context.token_label)
        parts = [f"<p><b>{html.escape(spec.name)}</b>: {html.escape(spec.profile)}, retrieval "
                 f"{html.escape(spec.retrieval)}{f' (k={spec.k})' if spec.retrieval != 'none' else ''}, "
                 f"mode {spec.mode}</p>"]  # fmt: skip
        parts += self._engine_line()
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
        parts += self._evidence_and_descriptions()
        parts.append("<h4>Messages sent</h4>")
        for message in context.messages:
            parts.append(
                f"<p style='margin-bottom:0'><b>{html.escape(message['role'])}</b></p>"
                f"<pre style='background:#f4f4f4; margin-top:2px'>{html.escape(message['content'])}</pre>"
            )
        self.view.setHtml("".join(parts))

    def _engine_line(self) -> list[str]:
        """Where the selected question's database is and which SQL dialect it speaks."""
        session = self.session
        item = next((i for i in session.items if i.index == session.current_index), None)
        if item is None or session.dataset is None:
            return []
        ref = session.dataset.database(item.db_id)
        return [f"<p>database <code>{html.escape(ref.label())}</code>: engine {ENGINE_LABELS[ref.engine]}, "
                f"SQL dialect {html.escape(ref.dialect)}</p>"]  # fmt: skip

    def _evidence_and_descriptions(self) -> list[str]:
        """The selected question's evidence and its database's column descriptions (BIRD), when it has them."""
        session, parts = self.session, []
        item = next((i for i in session.items if i.index == session.current_index), None)
        if item is None or session.dataset is None:
            return []
        if item.evidence:
            parts.append(f"<h4>Evidence</h4><p>{html.escape(item.evidence)}</p>")
        described = [(t.name, c) for t in session.dataset.schema(item.db_id).tables for c in t.columns if c.description]
        if described:
            rows = "".join(
                f"<tr><td><code>{html.escape(table)}.{html.escape(c.name)}</code></td>"
                f"<td>{html.escape(c.description)}</td></tr>"
                for table, c in described
            )
            parts.append(f"<h4>Column descriptions</h4><table cellspacing='4'>{rows}</table>")
        return parts
