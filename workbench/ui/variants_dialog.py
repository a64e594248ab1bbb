"""The variant editor: prompt version x retrieval x endpoint (x mode), one row per variant."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from workbench.core.retrieval.registry import recipe_names
from workbench.core.runs.runspec import LOCAL_PROFILE, MODES, VariantSpec
from workbench.ui.session import AppSession

HEADERS = ("name", "endpoint", "prompt version", "retrieval", "k", "schema tables", "mode")


class VariantsDialog(QDialog):
    def __init__(self, session: AppSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Variants")
        self.resize(900, 320)
        self.session = session
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in ((0, 150), (1, 130), (2, 220), (3, 100), (4, 60), (5, 100)):
            self.table.setColumnWidth(column, width)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setStyleSheet("color: #9b1c1c")
        add, duplicate, remove = QPushButton("Add"), QPushButton("Duplicate"), QPushButton("Remove")
        buttons_row = QHBoxLayout()
        for b in (add, duplicate, remove):
            buttons_row.addWidget(b)
        buttons_row.addStretch(1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel("Each row is one variant of the run: an endpoint, a prompt version, a retrieval recipe.")
        )
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons_row)
        layout.addWidget(self.problems)
        layout.addWidget(self.buttons)
        add.clicked.connect(lambda: self.add_row(self._new_spec()))
        duplicate.clicked.connect(self._duplicate)
        remove.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        self.buttons.accepted.connect(self._accept)
        self.buttons.rejected.connect(self.reject)
        labels = session.store.version_labels()
        self._versions = [(v.id, f"{v.name} {labels[v.id]}") for v in session.store.prompt_versions()]
        for spec in session.specs:
            self.add_row(spec)

    def _new_spec(self) -> VariantSpec:
        profile = next(iter(self.session.profiles), LOCAL_PROFILE)
        template = "completion_few_shot" if profile == LOCAL_PROFILE else "few_shot"
        mode = "completion" if profile == LOCAL_PROFILE else "chat"
        names = {self.table.item(r, 0).text() for r in range(self.table.rowCount()) if self.table.item(r, 0)}
        name = f"variant-{self.table.rowCount() + 1}"
        while name in names:
            name += "'"
        return VariantSpec(name, profile, self.session.latest_version(template), "bm25", 3, mode=mode)

    def _duplicate(self) -> None:
        row = self.table.currentRow()
        if row < 0:
            return
        spec = self.spec_at(row)
        self.add_row(VariantSpec(**{**spec.to_json(), "name": spec.name + "-copy"}))

    def add_row(self, spec: VariantSpec) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        name = QTableWidgetItem(spec.name)
        name.setData(Qt.ItemDataRole.UserRole, spec)  # the fields without a column (embeddings, split...) ride along
        self.table.setItem(row, 0, name)
        endpoint = QComboBox()
        endpoint.addItems([LOCAL_PROFILE, *sorted(self.session.profiles)])
        endpoint.setCurrentText(spec.profile)
        version = QComboBox()
        for vid, label in self._versions:
            version.addItem(label, vid)
        version.setCurrentIndex(max(0, version.findData(spec.template_version)))
        retrieval = QComboBox()
        retrieval.addItems(recipe_names())
        retrieval.setCurrentText(spec.retrieval)
        k = QSpinBox()
        k.setRange(0, 20)
        k.setValue(spec.k)
        tables = QSpinBox()
        tables.setRange(0, 50)
        tables.setSpecialValueText("all")
        tables.setValue(spec.schema_tables)
        mode = QComboBox()
        mode.addItems(list(MODES))
        mode.setCurrentText(spec.mode)
        mode.setToolTip("completion: one prompt that ends in SELECT (what small local models need)")
        for column, widget in enumerate((endpoint, version, retrieval, k, tables, mode), start=1):
            self.table.setCellWidget(row, column, widget)

    def spec_at(self, row: int) -> VariantSpec:
        def widget(column: int) -> QWidget:
            w = self.table.cellWidget(row, column)
            assert w is not None
            return w

        name_item = self.table.item(row, 0)
        endpoint, version, retrieval = widget(1), widget(2), widget(3)
        k, tables, mode = widget(4), widget(5), widget(6)
        assert isinstance(endpoint, QComboBox) and isinstance(version, QComboBox) and isinstance(retrieval, QComboBox)
        assert isinstance(k, QSpinBox) and isinstance(tables, QSpinBox) and isinstance(mode, QComboBox)
        original = name_item.data(Qt.ItemDataRole.UserRole) if name_item else None
        return replace(
            original if isinstance(original, VariantSpec) else VariantSpec("", "", None),
            name=name_item.text().strip() if name_item else "",
            profile=endpoint.currentText(),
            template_version=version.currentData(),
            retrieval=retrieval.currentText(),
            k=k.value(),
            schema_tables=tables.value(),
            mode=mode.currentText(),
        )

    def specs(self) -> list[VariantSpec]:
        return [self.spec_at(r) for r in range(self.table.rowCount())]

    def problems_of(self, specs: list[VariantSpec]) -> list[str]:
        problems = [p for s in specs for p in s.problems(self.session.profiles, self.session.store)]
        names = [s.name for s in specs]
        problems += [f"two variants are named {n!r}" for n in sorted(set(names)) if names.count(n) > 1]
        return problems

    def _accept(self) -> None:
        specs = self.specs()
        problems = self.problems_of(specs)
        if problems:
            self.problems.setText("\n".join(problems))
            return
        self.session.set_specs(specs)
        self.accept()
