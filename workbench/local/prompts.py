"""Prompts that suit small local models.

Tiny instruction-tuned models answer chat prompts with prose; as a plain completion that
ends in ``SELECT`` (schema, a few solved examples, the question) they write SQL. Stop
sequences end the answer at a semicolon or a blank line, and an optional llama.cpp GBNF
grammar only admits the tokens of one SQL statement on one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.core.data.dataset import Dataset, Item
from workbench.core.data.schema import Schema
from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import load_template
from workbench.core.prompts.templates import SchemaView
from workbench.core.runs.runner import MessageRenderer, Variant
from workbench.core.runs.runspec import COMPLETION_PREFIX, COMPLETION_STOP

STOP = COMPLETION_STOP
PREFIX = COMPLETION_PREFIX

# One statement on one line, ending in ';': words, numbers, quoted strings, operators.
# Spaces between tokens are optional ("count(*)"); the ';' lets generation end there.
SQL_GRAMMAR = r"""
root   ::= " " tok (" "? tok)* ";"
tok    ::= word | number | string | op
word   ::= [A-Za-z_] [A-Za-z0-9_.]* | "*"
number ::= "-"? [0-9]+ ("." [0-9]+)?
string ::= "'" [^'\n]* "'"
op     ::= "=" | "!=" | "<>" | "<=" | ">=" | "<" | ">" | "(" | ")" | "," | "+" | "-" | "/" | "%" | "||"
""".strip()


def examples_by_db(dataset: Dataset, split: str = "train", per_db: int = 3) -> dict[str, list[Item]]:
    """The first few training questions of each database, as fixed few-shot examples."""
    shots: dict[str, list[Item]] = {}
    for item in dataset.load_split(split).items:
        group = shots.setdefault(item.db_id, [])
        if len(group) < per_db:
            group.append(item)
    return shots


def completion_renderer(shots: dict[str, list[Item]]) -> MessageRenderer:
    """The bundled completion template with fixed examples (never the question itself)."""
    template = load_template("completion_few_shot")

    def render(item: Item, schema: Schema) -> list[dict[str, str]]:
        examples = [
            {"question": ex.question, "query": ex.query}
            for ex in shots.get(item.db_id, [])
            if not (ex.question == item.question and ex.query == item.query)
        ]
        variables = {
            "question": item.question,
            "schema": SchemaView(schema),
            "examples": examples,
            "evidence": item.evidence,
            "hyde_draft": "",
        }
        return template.render(variables)

    return render


def local_variants(profile: EndpointProfile, dataset: Dataset, modes: Sequence[str]) -> list[Variant]:
    """Variants for the local model: "chat" (zero-shot), "fewshot", "grammar" (few-shot + GBNF)."""
    shots = examples_by_db(dataset) if "train" in dataset.splits else {}
    out = []
    for mode in modes:
        if mode == "chat":
            out.append(Variant("local-chat", profile))
        elif mode in ("fewshot", "grammar"):
            params: dict[str, object] = {"stop": STOP}
            if mode == "grammar":
                params["grammar"] = SQL_GRAMMAR
            name = "local-fewshot" if mode == "fewshot" else "local-grammar"
            out.append(Variant(name, profile, completion_renderer(shots), params, "completion", PREFIX))
        else:
            raise ValueError(f"unknown local prompt mode {mode!r} (chat, fewshot, grammar)")
    return out


def local_profile(base_url: str, model_alias: str) -> EndpointProfile:
    """The built-in profile "local": the embedded server answers one request at a time."""
    return EndpointProfile(
        name="local",
        base_url=base_url,
        model=model_alias,
        params={"temperature": 0.0, "max_tokens": 160, "seed": 0},
        concurrency=1,
        timeout_s=300.0,
        max_attempts=3,
        identity=f"local:{model_alias}",  # the port changes per start; answers stay cached across starts
    )
