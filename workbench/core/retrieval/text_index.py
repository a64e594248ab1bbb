"""The shared text side of retrieval: words without stop words, an Okapi BM25 index and a TF-IDF cosine index.

Both indexes answer ``top(query, n)`` (the best n documents, best first) and ``scores(query)``.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "a an the of in on for to and or is are was were what which who whose how many much list show give find "
    "return all each every with by from that this those these do does did me their its there be have has as at it"
)
STOP_WORDS = frozenset(_STOP_WORDS.split())


def words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower()) if w not in STOP_WORDS]


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
        import numpy as np  # ~0.1 s: imported when an index is first built, not at start-up

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
        import numpy as np  # ~0.1 s: imported when an index is first built, not at start-up

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
        import numpy as np

        hits = np.nonzero(acc)[0]
        return dict(zip(hits.tolist(), acc[hits].tolist(), strict=True))

    def top(self, query: Iterable[str], n: int) -> list[tuple[int, float]]:
        acc = self._similarities(query)
        if acc is None:
            return []
        n = min(n, self.size)
        import numpy as np

        best = np.argpartition(-acc, n - 1)[:n]
        return sorted(((int(i), float(acc[i])) for i in best if acc[i] > 0), key=lambda p: (-p[1], p[0]))
