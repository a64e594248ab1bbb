"""Prompts that suit small local models.

Tiny instruction-tuned models answer chat prompts with prose; as a plain completion that
ends in ``SELECT`` (schema, a few solved examples, the question) they write SQL. The presets
are variant specs, built by ``variant_builder`` like any other. Stop
sequences end the answer at a semicolon or a blank line, and an optional llama.cpp GBNF
grammar only admits the tokens of one SQL statement on one line.
"""

from __future__ import annotations

from collections.abc import Sequence

from workbench.core.endpoints.profiles import EndpointProfile
from workbench.core.prompts.context import load_template
from workbench.core.runs.runspec import COMPLETION_PREFIX, COMPLETION_STOP, LOCAL_PROFILE, VariantSpec
from workbench.core.store import Store

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


LOCAL_MODES = ("chat", "fewshot", "grammar")


def local_specs(store: Store, modes: Sequence[str]) -> list[VariantSpec]:
    """Presets for the local model: "chat" (the plain prompt), "fewshot" (a completion that ends in SELECT,
    after the first three training questions of the same database), "grammar" (fewshot + a GBNF grammar)."""
    template = load_template("completion_few_shot")
    version = store.version_for(template.name, template.text) if set(modes) - {"chat"} else None
    out = []
    for mode in modes:
        if mode == "chat":
            out.append(VariantSpec("local-chat", LOCAL_PROFILE, None))
        elif mode in ("fewshot", "grammar"):
            grammar = SQL_GRAMMAR if mode == "grammar" else ""
            out.append(VariantSpec(f"local-{mode}", LOCAL_PROFILE, version, "same_db", 3, mode="completion",
                                   grammar=grammar, template_source=template.source))  # fmt: skip
        else:
            raise ValueError(f"unknown local prompt mode {mode!r} ({', '.join(LOCAL_MODES)})")
    return out


def local_profile(base_url: str, model_alias: str) -> EndpointProfile:
    """The built-in profile "local": the embedded server answers one request at a time and evaluates each
    prompt only from where it differs from the previous one, so a run asks in shared-prefix order."""
    return EndpointProfile(
        name=LOCAL_PROFILE,
        base_url=base_url,
        model=model_alias,
        params={"temperature": 0.0, "max_tokens": 160, "seed": 0},
        concurrency=1,
        timeout_s=300.0,
        max_attempts=3,
        identity=f"local:{model_alias}",  # the port changes per start; answers stay cached across starts
        reuses_prompt_prefix=True,
    )
