"""Prompt templates: chat messages written in Jinja2, rendered in a sandbox, kept as versions.

A template file renders to a list of messages, each introduced by a header line::

    ### system
    You write SQLite queries.
    ### user
    {{ schema }}
    Question: {{ question }}

Variables: ``question``, ``schema`` (prints as CREATE TABLE statements; also
``schema.compact``, ``schema.create_table`` and ``schema.render(style, foreign_keys,
sample_rows)``), ``examples`` (retrieved ``{question, query, score}``), ``evidence`` and
``hyde_draft``. Rendering is sandboxed with StrictUndefined: an unknown variable is an
error, and every error names the file, line and column. Rendering is bounded
(``template_bounds``): the prompt's size (256 kB), a loop budget (100,000 iterations and
calls) and a time limit (2 s), each configurable through ``TemplateLimits``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError

from workbench.core.data.engine_setting import ENGINE_LABELS
from workbench.core.data.schema import Schema
from workbench.core.engines import registry
from workbench.core.engines.base import DatabaseRef
from workbench.core.prompts.template_bounds import (
    DEFAULT_LIMITS,
    BoundExceeded,
    TemplateLimits,
    bounded,
    size_label,
    utf8_size,
)
from workbench.core.prompts.template_sandbox import BoundedEnvironment
from workbench.core.sandbox.sqlexec import QueryResult

ROLES = ("system", "user", "assistant")
_HEADER = re.compile(r"^###\s*(system|user|assistant)\s*$", re.IGNORECASE)
_TEMPLATE_NAME = "<template>"  # the file name Jinja gives templates made from strings
_ENV = BoundedEnvironment(undefined=StrictUndefined, keep_trailing_newline=False, autoescape=False)
MAX_SAMPLE_ROWS = 100  # schema.render(sample_rows=...)


class TemplateProblem(ValueError):
    """A template that cannot be parsed or rendered; ``line``/``column`` are 1-based in the file.

    With a ``source`` (the file, as the user named it) it reads ``file:line:column: message``.
    """

    def __init__(self, message: str, line: int, column: int = 1, source: str = "") -> None:
        where = f"{source}:{line}:{column}" if source else f"line {line}, column {column}"
        super().__init__(f"{where}: {message}")
        self.line = line
        self.column = column
        self.detail = message
        self.source = source


@dataclass(frozen=True)
class PromptTemplate:
    """The whole file is one Jinja template; its output is split into messages at the headers,
    so a loop can produce few-shot turns."""

    name: str
    text: str
    source: str = field(default="", compare=False)  # the file it came from, for messages

    @classmethod
    def parse(cls, name: str, text: str, source: str = "") -> PromptTemplate:
        try:
            _ENV.parse(text)
        except TemplateSyntaxError as exc:
            line = exc.lineno or 1
            raise TemplateProblem(exc.message or "syntax error", line, _column(text, line), source) from None
        except RecursionError:  # Jinja's parser recurses per bracket: "{{ [[[[ ... }}" runs out of stack
            line, column = _deepest_bracket(text)
            raise TemplateProblem("brackets nest too deeply to parse", line, column, source) from None
        if not any(_HEADER.match(line) for line in text.splitlines()):
            raise TemplateProblem("no messages: start one with a line '### user'", 1, 1, source)
        return cls(name, text, source)

    @classmethod
    def load(cls, path: Path) -> PromptTemplate:
        return cls.parse(path.stem, path.read_text(encoding="utf-8"), str(path))

    def render(self, variables: dict[str, Any], limits: TemplateLimits = DEFAULT_LIMITS) -> list[dict[str, str]]:
        """The messages for ``variables``; raises ``TemplateProblem`` for any error or bound passed."""
        try:
            with bounded(limits):
                output = _bounded_render(_compiled(self.text), variables, limits)
        except UndefinedError as exc:
            line = _template_line(exc)
            column = _find_column(self.text, line, _undefined_name(str(exc)))
            raise TemplateProblem(f"unknown variable: {exc.message}", line, column, self.source) from None
        except BoundExceeded as exc:
            raise self._problem(exc.message, exc, exc.token) from None
        except RecursionError as exc:
            raise self._problem("calls nest too deeply (recursion limit)", exc, "(") from None
        except MemoryError as exc:
            raise self._problem("out of memory (output-size limit)", exc, "{{") from None
        except Exception as exc:  # a template's own error (1/0, a bad filter argument): one line, never a traceback
            raise self._problem(str(exc) or type(exc).__name__, exc, "{") from None
        try:
            return _split_messages(output)
        except TemplateProblem as exc:
            raise TemplateProblem(exc.detail, exc.line, exc.column, self.source) from None

    def _problem(self, message: str, exc: BaseException, token: str) -> TemplateProblem:
        line = _template_line(exc)
        column = _find_column(self.text, line, token) if token else _column(self.text, line)
        return TemplateProblem(message, line, column, self.source)


@lru_cache(maxsize=64)
def _compiled(text: str) -> Template:
    return _ENV.from_string(text)


def _bounded_render(template: Template, variables: dict[str, Any], limits: TemplateLimits) -> str:
    """Render chunk by chunk; the chunk that passes the size limit is refused where the template wrote it."""
    chunks: list[str] = []
    size = 0
    stream = template.generate(**variables)
    for chunk in stream:
        chunks.append(chunk)
        size += utf8_size(chunk)
        if size > limits.max_output_bytes:
            message = f"the prompt passed {size_label(limits.max_output_bytes)} (output-size limit)"
            stream.throw(BoundExceeded(message, "{{"))
    return "".join(chunks)


def _split_messages(output: str) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    role: str | None = None
    body: list[str] = []
    for line in output.splitlines():
        header = _HEADER.match(line)
        if header:
            if role is not None:
                messages.append({"role": role, "content": "\n".join(body).strip()})
            role, body = header.group(1).lower(), []
        elif role is not None:
            body.append(line)
        elif line.strip():
            raise TemplateProblem("text before the first '### system|user|assistant' header", 1)
    if role is not None:
        messages.append({"role": role, "content": "\n".join(body).strip()})
    if not messages or messages[-1]["role"] == "assistant":
        raise TemplateProblem("the last message must be the user's (the model writes the next one)", 1)
    return messages


def _template_line(exc: BaseException) -> int:
    """The template line a Jinja runtime error came from (Jinja rewrites tracebacks to it)."""
    tb, line = exc.__traceback__, 1
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_NAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _undefined_name(message: str) -> str:
    match = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", message)
    return (match.group(1) or match.group(2)) if match else ""


def _find_column(text: str, line: int, name: str) -> int:
    lines = text.splitlines()
    if name and 0 < line <= len(lines):
        col = lines[line - 1].find(name)
        if col >= 0:
            return col + 1
    return 1


def _deepest_bracket(text: str) -> tuple[int, int]:
    """Where (1-based line and column) the outermost bracket of the deepest nesting opens."""
    depth = deepest = 0
    opened = where = (1, 1)
    for number, line in enumerate(text.splitlines() or [""], start=1):
        for column, char in enumerate(line, start=1):
            if char in "([{":
                depth += 1
                if depth == 1:
                    opened = (number, column)
                if depth > deepest:
                    deepest, where = depth, opened
            elif char in ")]}":
                depth = max(0, depth - 1)
    return where


def _column(text: str, line: int) -> int:
    lines = text.splitlines()
    if 0 < line <= len(lines):
        found = lines[line - 1].find("{")
        return found + 1 if found >= 0 else 1
    return 1


class SchemaView:
    """What a template sees as ``schema``: renderings of one database's schema."""

    def __init__(
        self,
        schema: Schema,
        database: DatabaseRef | None = None,
        tables: Sequence[str] | None = None,
        dialect: str | None = None,
    ) -> None:
        self._schema = schema
        self._database = database  # where sample rows come from
        # the engine whose DDL ``create_table`` speaks (``data.dialects``): the database's, unless named
        self.dialect = dialect or (database.engine if database is not None else "sqlite")
        self._tables = [t.lower() for t in tables] if tables is not None else None

    def _subset(self) -> Schema:
        if self._tables is None:
            return self._schema
        keep = tuple(t for t in self._schema.tables if t.name.lower() in self._tables)
        fks = tuple(
            f
            for f in self._schema.foreign_keys
            if f.table.lower() in self._tables and f.ref_table.lower() in self._tables
        )
        return Schema(self._schema.db_id, keep, fks, self._schema.raw)

    @property
    def create_table(self) -> str:
        return self._subset().create_table_sql(dialect=self.dialect)

    @property
    def engine(self) -> str:
        """The database engine's name as a prompt says it ("SQLite", "DuckDB", "PostgreSQL")."""
        return ENGINE_LABELS.get(self.dialect, self.dialect)

    @property
    def compact(self) -> str:
        return self._subset().compact()

    @property
    def table_names(self) -> list[str]:
        return [t.name for t in self._subset().tables]

    @property
    def descriptions(self) -> str:
        """One ``table.column: description`` line per described column (BIRD's database_description); may be ''."""
        return "\n".join(
            f"{t.name}.{c.name}: {' '.join(c.description.split())}"
            for t in self._subset().tables
            for c in t.columns
            if c.description
        )

    def render(
        self, style: str = "create_table", foreign_keys: bool = True, sample_rows: int = 0, descriptions: bool = False
    ) -> str:
        """The schema as CREATE TABLE or compact text; ``descriptions`` adds each described column's meaning."""
        if sample_rows > MAX_SAMPLE_ROWS:
            raise BoundExceeded(f"sample_rows is at most {MAX_SAMPLE_ROWS}, not {sample_rows}", "sample_rows")
        schema = self._subset()
        if style == "compact":
            text = schema.compact(foreign_keys, descriptions)
        else:
            text = schema.create_table_sql(foreign_keys, descriptions, self.dialect)
        if sample_rows > 0 and self._database is not None:
            text += "\n" + self._samples(self._database, schema, sample_rows)
        return text

    def _samples(self, database: DatabaseRef, schema: Schema, n: int) -> str:
        blocks = []
        for table in schema.tables:
            name = table.name.replace('"', '""')
            out = registry.execute_one(database, f'SELECT * FROM "{name}" LIMIT {int(n)}', timeout_s=2.0, max_rows=n)
            if isinstance(out, QueryResult) and out.rows:
                rows = "\n".join(" | ".join("NULL" if v is None else str(v) for v in row) for row in out.rows)
                blocks.append(f"/* {n} rows of {table.name}:\n{' | '.join(out.columns)}\n{rows}\n*/")
        return "\n".join(blocks)

    def __str__(self) -> str:
        return self.create_table


def bundled_templates(folder: Path) -> dict[str, PromptTemplate]:
    return {p.stem: PromptTemplate.load(p) for p in sorted(folder.glob("*.prompt"))}
