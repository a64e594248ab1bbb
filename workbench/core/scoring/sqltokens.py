"""Tokenise SQL the way the official Spider evaluator does before it parses.

The official evaluator (test-suite-sql-eval) turns every single quote into a double
quote, pairs the quotes left to right into string tokens, runs an English word
tokenizer (NLTK's Treebank-style rules) over the rest, lower-cases it and glues
``!`` / ``>`` / ``<`` to a following ``=``. Its verdicts depend on those quirks (for
example ``a=b`` stays one token and cannot be parsed), so exact-set match here applies
the same rules. The Treebank rules that matter for SQL text are re-expressed below as
a short list of regular-expression rewrites.
"""

from __future__ import annotations

import re


class SpiderTokenError(ValueError):
    """The text cannot be tokenised under Spider's rules (e.g. an odd number of quotes)."""


# The two rules for a final period (with closing brackets after it), applied only where the text ends in one.
_FINAL_PERIOD_SPACED = re.compile(r"([^.])(\.)([\]\)}>\"'»”’ ]*+)\s*$")
_FINAL_PERIOD_TIGHT = re.compile(r"([^.])(\.)([\]\)}>\"']*)\s*$")
_FINAL_PERIOD = frozenset((_FINAL_PERIOD_SPACED, _FINAL_PERIOD_TIGHT))

# Each rewrite with the characters one of its matches needs: a rewrite only moves characters apart with spaces,
# so a text's characters (but the space) stay what they were, and a rule whose characters are absent is skipped.
_REWRITES: tuple[tuple[re.Pattern[str], str, frozenset[str]], ...] = (
    # opening quotes and runs of backticks stand alone
    (re.compile("([«“‘„]|`+)"), r" \1 ", frozenset("«“‘„`")),
    (re.compile("(``)"), r" \1 ", frozenset("`")),  # then pairs of backticks split off again ("```" -> "``", "`")
    # a final period (with closing brackets after it) is split off
    (_FINAL_PERIOD_SPACED, r"\1 \2 \3 ", frozenset(".")),
    # colons and commas are split unless a digit follows ("1,000" stays whole)
    (re.compile(r"([:,])([^\d])"), r" \1 \2", frozenset(":,")),
    (re.compile(r"([:,])$"), r" \1 ", frozenset(":,")),
    (re.compile(r"\.{2,}"), r" \g<0> ", frozenset(".")),
    (re.compile(r"[;@#$%&]"), r" \g<0> ", frozenset(";@#$%&")),
    (re.compile("[\u2012-\u2015]"), r" \g<0> ", frozenset("\u2012\u2013\u2014\u2015")),
    (_FINAL_PERIOD_TIGHT, r"\1 \2\3 ", frozenset(".")),
    (re.compile(r"[?!]"), r" \g<0> ", frozenset("?!")),
    (re.compile(r"[*]"), r" \g<0> ", frozenset("*")),
    # brackets of every kind, including < and >, stand alone; '=' does not
    (re.compile(r"[\]\[(){}<>]"), r" \g<0> ", frozenset("][(){}<>")),
    (re.compile(r"--"), r" -- ", frozenset("-")),
    (re.compile("([»”’])"), r" \1 ", frozenset("»”’")),
)

# English contractions the word tokenizer splits ("cannot" -> "can not").
_CONTRACTIONS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"(?i)\b(can)(not)\b",
        r"(?i)\b(d)('ye)\b",
        r"(?i)\b(gim)(me)\b",
        r"(?i)\b(gon)(na)\b",
        r"(?i)\b(got)(ta)\b",
        r"(?i)\b(lem)(me)\b",
        r"(?i)\b(more)('n)\b",
        r"(?i)\b(wan)(na)(?=\s)",
        r"(?i) ('t)(is)\b",
        r"(?i) ('t)(was)\b",
    )
)
# any of them: most SQL has none, and one search replaces ten (case-insensitive matching lets a few letters
# outside ASCII stand for ASCII ones, such as the long s for "s": ASCII text is checked by its words alone)
_ANY_CONTRACTION = re.compile("(?i)" + "|".join(f"(?:{p.pattern.removeprefix('(?i)')})" for p in _CONTRACTIONS))
_CONTRACTION_WORDS = ("cannot", "d'ye", "gimme", "gonna", "gotta", "lemme", "more'n", "wanna", "'tis", "'twas")
# what may follow a final period that the rules split off (their closing brackets; spaces)
_AFTER_FINAL_PERIOD = "])}>\"'»”’"


def _ends_in_period(text: str) -> bool:
    """Whether ``text`` ends in a period once closing brackets and spaces are stripped: else no final-period rule
    can match (inserting spaces, as every rule does, cannot make it true)."""
    while True:
        stripped = text.rstrip().rstrip(_AFTER_FINAL_PERIOD)
        if stripped == text:
            return text.endswith(".")
        text = stripped


def _may_contract(text: str) -> bool:
    if text.isascii():
        lowered = text.lower()
        return any(word in lowered for word in _CONTRACTION_WORDS)
    return _ANY_CONTRACTION.search(text) is not None


_COMPARISON_PREFIXES = ("!", ">", "<")


def _split_words(text: str) -> list[str]:
    present = frozenset(text)
    at_end = "." in present and _ends_in_period(text)
    for pattern, replacement, needs in _REWRITES:
        if not needs.isdisjoint(present) and (at_end or pattern not in _FINAL_PERIOD):
            text = pattern.sub(replacement, text)
    text = " " + text + " "
    if _may_contract(text):
        for pattern in _CONTRACTIONS:
            text = pattern.sub(r" \1 \2 ", text)
    return text.split()


def _hide_quoted(text: str) -> tuple[str, dict[str, str]]:
    """Replace each pair of double quotes (and what is between) by a placeholder word."""
    quotes: list[int] = []
    at = text.find('"')
    while at >= 0:
        quotes.append(at)
        at = text.find('"', at + 1)
    if len(quotes) % 2:
        raise SpiderTokenError("unbalanced quotes")
    values: dict[str, str] = {}
    for k in range(len(quotes) - 1, 0, -2):
        start, end = quotes[k - 1], quotes[k]
        key = f"__val_{start}_{end}__"
        values[key] = text[start : end + 1]
        text = text[:start] + key + text[end + 1 :]
    return text, values


def tokenize(sql: str) -> list[str]:
    """Return Spider-style tokens: lower-cased words, quoted values kept verbatim."""
    text, values = _hide_quoted(str(sql).replace("'", '"'))
    tokens = [values.get(word.lower(), word.lower()) for word in _split_words(text)]
    merged: list[str] = []
    for tok in tokens:
        if tok == "=" and merged and merged[-1] in _COMPARISON_PREFIXES:
            merged[-1] += "="
        else:
            merged.append(tok)
    return merged
