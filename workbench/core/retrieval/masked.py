"""The masked recipe: question words with schema names and values replaced by placeholders.

DAIL-SQL's masked question similarity: the structure of a question matches across databases.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable

from workbench.core.data.dataset import Item
from workbench.core.data.schema import Schema
from workbench.core.retrieval.base import ExampleRetriever
from workbench.core.retrieval.text_index import STOP_WORDS, CosineTfIdf, words

_NUMBER = re.compile(r"^\d+(\.\d+)?$")
_NAME_PARTICLES = frozenset({"van", "der", "de", "da", "von", "la", "le", "du", "di", "del", "dos", "st"})
_RAW_WORD = re.compile(r"'[^']*'|\"[^\"]*\"|[A-Za-z0-9]+")


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
            elif word in STOP_WORDS or (word in _NAME_PARTICLES and masked and masked[-1] == "<val>"):
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
