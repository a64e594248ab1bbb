"""The layering rules, checked over the real import graph of the source (lazy imports included).

core imports none of ui, cli, local; local and cli import no ui; only ui imports Qt; no module
cycles; and core's wings (core.data, core.sandbox, ...) depend on each other without cycles.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.contracts.import_graph import ImportGraph

ROOT = Path(__file__).resolve().parents[2]
QT = ("PySide6", "shiboken6", "qasync", "pyqtgraph")


@pytest.fixture(scope="module")
def graph() -> ImportGraph:
    return ImportGraph.read(ROOT, "workbench")


def test_core_imports_no_ui_cli_or_local(graph: ImportGraph) -> None:
    assert graph.forbidden("workbench.core", ("workbench.ui", "workbench.cli", "workbench.local")) == []


def test_local_imports_no_ui(graph: ImportGraph) -> None:
    assert graph.forbidden("workbench.local", ("workbench.ui",)) == []


def test_cli_imports_no_ui(graph: ImportGraph) -> None:
    assert graph.forbidden("workbench.cli", ("workbench.ui",)) == []


def test_only_ui_imports_qt(graph: ImportGraph) -> None:
    outside = [m for m in graph.internal if not m.startswith("workbench.ui")]
    assert [f"{m} imports {sorted(graph.external[m] & set(QT))}" for m in outside if graph.external[m] & set(QT)] == []


def test_no_module_cycles(graph: ImportGraph) -> None:
    assert graph.cycles() == []


def test_core_wings_form_a_hierarchy(graph: ImportGraph) -> None:
    core = ImportGraph(graph.package, {m: e for m, e in graph.internal.items() if m.startswith("workbench.core.")})
    assert core.cycles(group=3) == []


def test_the_checks_see_what_they_forbid(tmp_path: Path) -> None:
    """The graph reader finds lazy, relative and from-imports, so the rules above can fail."""
    pkg = tmp_path / "demo"
    for sub in ("core/a", "core/b", "ui", "local"):
        (pkg / sub).mkdir(parents=True)
        (pkg / sub / "__init__.py").write_text("")
    (pkg / "__init__.py").write_text("")
    (pkg / "core" / "__init__.py").write_text("")
    (pkg / "core/a/one.py").write_text("from ..b import two\n")
    (pkg / "core/b/two.py").write_text("def f():\n    from demo.core.a.one import x\n    import PySide6.QtCore\n")
    (pkg / "local/serve.py").write_text("from demo import ui\n")
    (pkg / "core/a/three.py").write_text("from demo.local import serve\n")
    demo = ImportGraph.read(tmp_path, "demo")
    assert demo.cycles() == [["demo.core.a.one", "demo.core.b.two"]]
    assert demo.forbidden("demo.local", ("demo.ui",)) == ["demo.local.serve imports demo.ui"]
    assert demo.forbidden("demo.core", ("demo.local",)) == ["demo.core.a.three imports demo.local.serve"]
    assert demo.external["demo.core.b.two"] == {"PySide6"}
    assert demo.cycles(group=3) == [["demo.core.a", "demo.core.b"]]


# core's wings, lowest first: each imports only wings before it (docs/architecture.md lists them in this order)
WINGS = (
    "sandbox",
    "engines",
    "data",
    "scoring",
    "store",
    "endpoints",
    "retrieval",
    "prompts",
    "runs",
    "reports",
    "finetune",
)


def test_core_wings_import_only_the_wings_below_them(graph: ImportGraph) -> None:
    def wing(module: str) -> str | None:
        parts = module.split(".")
        return parts[2] if len(parts) > 3 and parts[:2] == ["workbench", "core"] else None

    packages = sorted({w for m in graph.internal if (w := wing(m))})
    assert packages == sorted(WINGS)  # a new wing takes its place in the order
    upward = [
        f"{a} imports {b}"
        for a, targets in graph.internal.items()
        for b in sorted(targets)
        if (wa := wing(a)) and (wb := wing(b)) and WINGS.index(wb) > WINGS.index(wa)
    ]
    assert upward == []
