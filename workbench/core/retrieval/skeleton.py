"""The skeleton recipe (HyDE): training queries ranked by how close their SQL skeleton is to a draft answer's.

The skeleton keeps keywords, operators and aggregates; names become '_' and values '?'.
The draft is written by the model first; the question's own gold SQL is never used.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from workbench.core.data.dataset import Item
from workbench.core.retrieval.base import ExampleRetriever, Scored, same_question
from workbench.core.retrieval.text_index import CosineTfIdf, words

# sqlglot takes ~0.3 s to import: it is loaded when a skeleton is first needed, not with the recipe registry
_KEEP_NAMES = (
    "SELECT",
    "FROM",
    "WHERE",
    "GROUP_BY",
    "ORDER_BY",
    "HAVING",
    "LIMIT",
    "JOIN",
    "ON",
    "AND",
    "OR",
    "NOT",
    "IN",
    "LIKE",
    "BETWEEN",
    "UNION",
    "INTERSECT",
    "EXCEPT",
    "DISTINCT",
    "DESC",
    "ASC",
    "EQ",
    "NEQ",
    "GT",
    "GTE",
    "LT",
    "LTE",
    "STAR",
    "L_PAREN",
    "R_PAREN",
    "EXISTS",
    "IS",
    "NULL",
    "CASE",
)
_AGGREGATES = {"count", "sum", "avg", "min", "max"}


@cache
def _sqlglot() -> tuple[Any, Any, frozenset[Any]]:
    """sqlglot's tokenizer, its token types and the types a skeleton keeps."""
    from sqlglot.tokens import Tokenizer, TokenType

    return Tokenizer, TokenType, frozenset(TokenType[name] for name in _KEEP_NAMES)


def sql_skeleton(sql: str) -> list[str]:
    """Keywords, operators and aggregates of a query; names become '_' and values '?'."""
    Tokenizer, TokenType, keep = _sqlglot()
    try:
        tokens = Tokenizer().tokenize(sql)
    except Exception:  # unreadable drafts still have a (poor) skeleton
        return words(sql)
    out: list[str] = []
    for tok in tokens:
        text = tok.text.lower()
        if tok.token_type in keep:
            out.append(tok.token_type.name.lower())
        elif text in _AGGREGATES:
            out.append(text)
        elif tok.token_type in (TokenType.NUMBER, TokenType.STRING):
            out.append("?")
        elif not out or out[-1] != "_":
            out.append("_")
    return out


class SkeletonSimilarity(ExampleRetriever):
    """HyDE: rank training queries by how close their skeleton is to a draft answer's.

    Many training queries share a skeleton exactly; among equals, the ones whose
    question is closest (cosine of question words) come first, so examples tend to
    come from the same database and topic rather than from whichever file came first.
    """

    name = "skeleton"
    QUESTION_WEIGHT = 0.1

    def _index(self, keys: list[list[str]]) -> None:
        self.index = CosineTfIdf(keys)
        self.questions = CosineTfIdf([words(i.question) for i in self.items])

    def key(self, item: Item) -> list[str]:
        return _ngrams(sql_skeleton(item.query))

    def query_key(self, item: Item, draft: str | None) -> list[str]:
        if draft is None:
            raise ValueError("skeleton retrieval needs a draft query (HyDE): the item's own gold is never used")
        return _ngrams(sql_skeleton(draft))

    def retrieve(self, item: Item, k: int = 3, draft: str | None = None) -> list[Scored]:
        skeleton = dict(self.index.top(self.query_key(item, draft), max(64, 4 * k)))
        question = self.questions.scores(words(item.question))
        ranked = sorted(skeleton, key=lambda i: (-(skeleton[i] + self.QUESTION_WEIGHT * question.get(i, 0.0)), i))
        out = [
            Scored(self.items[i], skeleton[i] + self.QUESTION_WEIGHT * question.get(i, 0.0))
            for i in ranked
            if not same_question(self.items[i], item)
        ]
        return out[:k]


def _ngrams(tokens: list[str], n: int = 3) -> list[str]:
    grams = list(tokens)
    for size in range(2, n + 1):
        grams += ["_".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]
    return grams
