"""Retrieval recipes: pick few-shot examples from a training split, and the relevant schema.

Every example recipe has one interface: ``fit(items)`` once, then ``retrieve(item, k)``
returning scored training items. A retriever never returns the query item itself (same
question on the same database) and never looks at the query item's gold SQL: the HyDE
recipe ranks by the SQL skeleton of a *draft* answer written by the model.

Recipes:
  bm25      question words (Okapi BM25)
  masked    question words with schema names and values replaced by placeholders
            (DAIL-SQL's masked question similarity)
  skeleton  SQL skeleton of a draft query (keywords kept, names and values dropped)
  dense     embeddings of the questions from any /v1/embeddings endpoint (embeddings.py)
Schema linking (``link_schema``) ranks tables for a question and keeps the top ones.
"""

from __future__ import annotations

import heapq
import itertools
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlglot.tokens import Tokenizer, TokenType

from workbench.core.data.dataset import Item
from workbench.core.data.schema import Schema

_WORD = re.compile(r"[a-z0-9]+")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_NAME_PARTICLES = frozenset({"van", "der", "de", "da", "von", "la", "le", "du", "di", "del", "dos", "st"})
_RAW_WORD = re.compile(r"'[^']*'|\"[^\"]*\"|[A-Za-z0-9]+")
_STOP_WORDS = (
    "a an the of in on for to and or is are was were what which who whose how many much list show give find "
    "return all each every with by from that this those these do does did me their its there be have has as at it"
)
_STOP = frozenset(_STOP_WORDS.split())


@dataclass(frozen=True)
class Scored:
    item: Item
    score: float

    def as_example(self) -> dict[str, object]:
        return {
            "question": self.item.question,
            "query": self.item.query,
            "score": round(self.score, 4),
            "db_id": self.item.db_id,
        }


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in _STOP]


class BM25:
    """Okapi BM25 over token lists, with an inverted index so a query touches only matching docs."""

    def __init__(self, docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.lengths = [len(d) for d in docs]
        self.avg = (sum(self.lengths) / len(docs)) if docs else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for i, doc in enumerate(docs):
            for term, tf in Counter(doc).items():
                self.postings[term].append((i, tf))
        n = len(docs)
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def top(self, query: Iterable[str], n: int) -> list[tuple[int, float]]:
        return heapq.nsmallest(n, ((i, s) for i, s in self.scores(query).items()), key=lambda p: (-p[1], p[0]))

    def scores(self, query: Iterable[str]) -> dict[int, float]:
        out: dict[int, float] = defaultdict(float)
        for term in set(query):
            idf = self.idf.get(term)
            if idf is None:
                continue
            for i, tf in self.postings[term]:
                norm = tf + self.k1 * (1 - self.b + self.b * self.lengths[i] / (self.avg or 1))
                out[i] += idf * tf * (self.k1 + 1) / norm
        return out


class CosineTfIdf:
    """Cosine similarity of TF-IDF vectors: 1.0 for identical keys, whatever their length.

    Postings are numpy arrays, so a query costs one vectorised add per query term even
    when a term (``select``, ``<col>``) occurs in every document.
    """

    def __init__(self, docs: Sequence[Sequence[str]]) -> None:
        n = len(docs)
        df = Counter(t for d in docs for t in set(d))
        self.idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        norms = np.ones(max(n, 1), dtype=np.float64)
        for i, doc in enumerate(docs):
            weights = {t: tf * self.idf[t] for t, tf in Counter(doc).items()}
            norms[i] = math.sqrt(sum(w * w for w in weights.values())) or 1.0
            for t, w in weights.items():
                postings[t][0].append(i)
                postings[t][1].append(w)
        self.postings = {t: (np.asarray(ix, dtype=np.int32), np.asarray(w)) for t, (ix, w) in postings.items()}
        self.norms = norms
        self.size = n

    def _similarities(self, query: Iterable[str]) -> np.ndarray | None:
        """Cosine similarity of the query with every document (None: no query term is known)."""
        q = {t: tf * self.idf[t] for t, tf in Counter(query).items() if t in self.idf}
        if not q or self.size == 0:
            return None
        acc = np.zeros(self.size, dtype=np.float64)
        for t, wq in q.items():
            ix, w = self.postings[t]
            acc[ix] += wq * w
        acc /= math.sqrt(sum(w * w for w in q.values())) * self.norms[: self.size]
        return acc

    def scores(self, query: Iterable[str]) -> dict[int, float]:
        acc = self._similarities(query)
        if acc is None:
            return {}
        hits = np.nonzero(acc)[0]
        return dict(zip(hits.tolist(), acc[hits].tolist(), strict=True))

    def top(self, query: Iterable[str], n: int) -> list[tuple[int, float]]:
        acc = self._similarities(query)
        if acc is None:
            return []
        n = min(n, self.size)
        best = np.argpartition(-acc, n - 1)[:n]
        return sorted(((int(i), float(acc[i])) for i in best if acc[i] > 0), key=lambda p: (-p[1], p[0]))


class ExampleRetriever:
    """Base: fit on training items, retrieve the top k for a query item, never itself."""

    name = "base"

    def __init__(self) -> None:
        self.items: list[Item] = []

    def fit(self, items: Sequence[Item]) -> ExampleRetriever:
        self.items = list(items)
        self._index([self.key(i) for i in self.items])
        return self

    def key(self, item: Item) -> list[str]:
        raise NotImplementedError

    def query_key(self, item: Item, draft: str | None) -> list[str]:
        return self.key(item)

    def _index(self, keys: list[list[str]]) -> None:
        self.index: BM25 | CosineTfIdf = BM25(keys)

    def retrieve(self, item: Item, k: int = 3, draft: str | None = None) -> list[Scored]:
        key = self.query_key(item, draft)
        want = k + 8  # a few extra candidates, in case the item itself (or copies of it) rank among them
        while True:
            ranked = self.index.top(key, want)
            out = [Scored(self.items[i], score) for i, score in ranked if not _same_question(self.items[i], item)]
            if len(out) >= k or len(ranked) < want:
                return out[:k]
            want *= 4


def _same_question(a: Item, b: Item) -> bool:
    return a.db_id == b.db_id and a.question.strip().lower() == b.question.strip().lower()


class QuestionBM25(ExampleRetriever):
    name = "bm25"

    def key(self, item: Item) -> list[str]:
        return words(item.question)


class MaskedQuestion(ExampleRetriever):
    """Questions with schema words and values masked, so structure matches across databases."""

    name = "masked"

    def _index(self, keys: list[list[str]]) -> None:
        self.index = CosineTfIdf(keys)

    def __init__(self, schemas: Callable[[str], Schema]) -> None:
        super().__init__()
        self.schemas = schemas
        self._names: dict[str, set[str]] = {}

    def _schema_words(self, db_id: str) -> set[str]:
        if db_id not in self._names:
            schema = self.schemas(db_id)
            names: set[str] = set()
            for table in schema.tables:
                names.update(words(table.name.replace("_", " ")) + words(table.natural_name))
                for col in table.columns:
                    names.update(words(col.name.replace("_", " ")) + words(col.natural_name))
            self._names[db_id] = names
        return self._names[db_id]

    def key(self, item: Item) -> list[str]:
        names = self._schema_words(item.db_id)
        masked: list[str] = []
        for k, raw in enumerate(_RAW_WORD.findall(item.question)):
            word = raw.lower()
            if raw[0] in "'\"" or (k > 0 and raw[0].isupper()):
                token = "<val>"  # quoted text and proper names are values
            elif word in _STOP or (word in _NAME_PARTICLES and masked and masked[-1] == "<val>"):
                continue  # "van der" inside a name stays part of the masked value
            elif word in names:
                token = "<col>"
            elif _NUMBER.match(word):
                token = "<num>"
            else:
                token = word
            if not (token == "<val>" and masked and masked[-1] == "<val>"):
                masked.append(token)
        return masked + [f"{a}_{b}" for a, b in itertools.pairwise(masked)]


_KEEP = {
    TokenType.SELECT,
    TokenType.FROM,
    TokenType.WHERE,
    TokenType.GROUP_BY,
    TokenType.ORDER_BY,
    TokenType.HAVING,
    TokenType.LIMIT,
    TokenType.JOIN,
    TokenType.ON,
    TokenType.AND,
    TokenType.OR,
    TokenType.NOT,
    TokenType.IN,
    TokenType.LIKE,
    TokenType.BETWEEN,
    TokenType.UNION,
    TokenType.INTERSECT,
    TokenType.EXCEPT,
    TokenType.DISTINCT,
    TokenType.DESC,
    TokenType.ASC,
    TokenType.EQ,
    TokenType.NEQ,
    TokenType.GT,
    TokenType.GTE,
    TokenType.LT,
    TokenType.LTE,
    TokenType.STAR,
    TokenType.L_PAREN,
    TokenType.R_PAREN,
    TokenType.EXISTS,
    TokenType.IS,
    TokenType.NULL,
    TokenType.CASE,
}
_AGGREGATES = {"count", "sum", "avg", "min", "max"}


def sql_skeleton(sql: str) -> list[str]:
    """Keywords, operators and aggregates of a query; names become '_' and values '?'."""
    try:
        tokens = Tokenizer().tokenize(sql)
    except Exception:  # unreadable drafts still have a (poor) skeleton
        return words(sql)
    out: list[str] = []
    for tok in tokens:
        text = tok.text.lower()
        if tok.token_type in _KEEP:
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
            if not _same_question(self.items[i], item)
        ]
        return out[:k]


def _ngrams(tokens: list[str], n: int = 3) -> list[str]:
    grams = list(tokens)
    for size in range(2, n + 1):
        grams += ["_".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)]
    return grams


RECIPES = ("none", "bm25", "masked", "skeleton", "dense")


def make_retriever(
    recipe: str, schemas: Callable[[str], Schema], embedder: Callable[..., object] | None = None
) -> ExampleRetriever | None:
    if recipe == "none":
        return None
    if recipe == "dense":
        if embedder is None:
            raise ValueError("dense retrieval needs an embedding endpoint (embedding_profile)")
        from workbench.core.retrieval.embeddings import DenseQuestion

        return DenseQuestion(embedder)  # type: ignore[arg-type]
    if recipe == "bm25":
        return QuestionBM25()
    if recipe == "masked":
        return MaskedQuestion(schemas)
    if recipe == "skeleton":
        return SkeletonSimilarity()
    raise ValueError(f"unknown retrieval recipe {recipe!r} (known: {', '.join(RECIPES)})")


# --- schema linking ------------------------------------------------------------------
def link_schema(question: str, schema: Schema, top: int = 3) -> list[tuple[str, float]]:
    """Tables ranked by overlap of question words with table and column names, plus the
    tables that join them; the first ``top`` are kept (use ``top=0`` to keep all)."""
    q = set(words(question))
    q |= {w.rstrip("s") for w in q}
    scores: list[tuple[str, float]] = []
    for table in schema.tables:
        table_words = set(words(table.name.replace("_", " ") + " " + table.natural_name))
        col_words = {w for c in table.columns for w in words(c.name.replace("_", " ") + " " + c.natural_name)}
        score = 2.0 * len(q & {w.rstrip("s") for w in table_words} | q & table_words) + len(q & col_words)
        scores.append((table.name, float(score)))
    scores.sort(key=lambda ts: (-ts[1], ts[0]))
    if top <= 0 or top >= len(scores):
        return scores
    kept = {name for name, score in scores[:top] if score > 0} or {scores[0][0]}
    for fk in schema.foreign_keys:  # keep the bridge tables between kept ones
        if fk.table in kept or fk.ref_table in kept:
            other = fk.ref_table if fk.table in kept else fk.table
            if any(o.table == other and o.ref_table in kept and o.ref_table != fk.table for o in schema.foreign_keys):
                kept.add(other)
    return [(name, score) for name, score in scores if name in kept]
