"""Syntax colouring for prompt templates, SQL and diffs."""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

_SQL_WORDS = (
    "select from where group by order having limit join on as and or not in like between is null distinct "
    "count sum avg min max union intersect except desc asc case when then else end with inner left outer exists"
)
SQL_KEYWORDS = tuple(_SQL_WORDS.split(" "))


def _format(color: str, bold: bool = False, background: str | None = None) -> QTextCharFormat:
    fmt = QTextCharFormat()
    fmt.setForeground(QColor(color))
    if bold:
        fmt.setFontWeight(QFont.Weight.Bold)
    if background:
        fmt.setBackground(QColor(background))
    return fmt


class TemplateHighlighter(QSyntaxHighlighter):
    """``{{ variables }}``, ``{% tags %}``, ``{# comments #}`` and ``### role`` headers."""

    RULES = (
        (re.compile(r"^### (system|user|assistant)\s*$"), _format("#7a3e9d", bold=True)),
        (re.compile(r"\{\{.*?\}\}"), _format("#0b62a4", background="#e8f1fb")),
        (re.compile(r"\{%.*?%\}"), _format("#a4500b", bold=True)),
        (re.compile(r"\{#.*?#\}"), _format("#888888")),
    )

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in self.RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)


class SqlHighlighter(QSyntaxHighlighter):
    KEYWORD = re.compile(r"\b(" + "|".join(SQL_KEYWORDS) + r")\b", re.IGNORECASE)
    STRING = re.compile(r"'(?:[^']|'')*'")
    NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")

    def __init__(self, document: QTextDocument) -> None:
        super().__init__(document)
        self.keyword, self.string, self.number = _format("#0b62a4", bold=True), _format("#2d7d2d"), _format("#a4500b")

    def highlightBlock(self, text: str) -> None:
        for pattern, fmt in ((self.KEYWORD, self.keyword), (self.NUMBER, self.number), (self.STRING, self.string)):
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(), fmt)


class DiffHighlighter(QSyntaxHighlighter):
    """Unified diffs: added lines green, removed red, hunk headers grey."""

    def highlightBlock(self, text: str) -> None:
        if text.startswith(("+++", "---")):
            self.setFormat(0, len(text), _format("#555555", bold=True))
        elif text.startswith("+"):
            self.setFormat(0, len(text), _format("#1d6b1d", background="#e6f6e6"))
        elif text.startswith("-"):
            self.setFormat(0, len(text), _format("#9b1c1c", background="#fbe9e9"))
        elif text.startswith("@@"):
            self.setFormat(0, len(text), _format("#6b6b9b"))
