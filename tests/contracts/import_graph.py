"""The package's real import graph, read from source: every import statement, lazy ones included.

Each module maps to the modules of the same package it imports and the external top-level
packages it imports. Relative imports are resolved; ``from pkg import name`` counts as an
import of ``pkg.name`` when that is a module, else of ``pkg``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class ImportGraph:
    package: str
    internal: dict[str, set[str]] = field(default_factory=dict)  # module -> modules of the package it imports
    external: dict[str, set[str]] = field(default_factory=dict)  # module -> top-level outside packages

    @classmethod
    def read(cls, root: Path, package: str) -> ImportGraph:
        """``root`` holds the folder ``package``."""
        files: dict[str, tuple[Path, bool]] = {}
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            is_package = parts[-1] == "__init__"
            files[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
        graph = cls(package)
        for name, (path, is_package) in files.items():
            here = name if is_package else name.rpartition(".")[0]
            targets: set[str] = set()
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
                if isinstance(node, ast.Import):
                    targets.update(alias.name for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    base = _absolute(here, node.module, node.level)
                    for alias in node.names:
                        full = f"{base}.{alias.name}"
                        targets.add(full if full in files else base)
            graph.internal[name] = {t for t in targets if t in files and t != name}
            graph.external[name] = {t.split(".")[0] for t in targets if t.split(".")[0] != package}
        return graph

    def modules_under(self, prefix: str) -> list[str]:
        return [m for m in self.internal if m == prefix or m.startswith(prefix + ".")]

    def forbidden(self, source: str, targets: tuple[str, ...]) -> list[str]:
        """``a imports b`` for every module under ``source`` that imports a module under one of ``targets``."""
        return [
            f"{a} imports {b}"
            for a in self.modules_under(source)
            for b in sorted(self.internal[a])
            if any(b == t or b.startswith(t + ".") for t in targets)
        ]

    def cycles(self, group: int | None = None) -> list[list[str]]:
        """Strongly connected sets of more than one node; with ``group``, nodes are names cut to that many parts."""

        def node(m: str) -> str:
            return m if group is None else ".".join(m.split(".")[:group])

        edges: dict[str, set[str]] = {}
        for a, bs in self.internal.items():
            edges.setdefault(node(a), set()).update(node(b) for b in bs if node(b) != node(a) and node(a) != node(b))
        return _strongly_connected(edges)


def _absolute(here: str, module: str | None, level: int) -> str:
    if not level:
        return module or ""
    parts = here.split(".")
    base = parts[: len(parts) - level + 1]
    return ".".join(base + ([module] if module else []))


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative; only the sets with a cycle in them."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            v, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[v] = min(low[v], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                component = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    component.append(w)
                    if w == v:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found
