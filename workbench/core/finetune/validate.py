"""Check a chat-format training file before anything is uploaded, and estimate what training costs.

Errors make a file unusable (the fine-tuning API would reject it, or it teaches nothing);
warnings are worth reading. Token counts are estimates (characters / 4, plus a few per
message) unless a tokenizer is given, and are labelled so.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.core.data.inputs import InputError, jsonl_lines, loads_json, read_text

ROLES = ("system", "user", "assistant")
MIN_EXAMPLES = 10  # the API's minimum
RECOMMENDED_EXAMPLES = 50
DEFAULT_MAX_TOKENS = 65_536  # per example, for the current OpenAI chat models
DEFAULT_EPOCHS = 3


@dataclass
class Problem:
    where: str  # "train line 12", "validation", "file"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Validation:
    examples: int = 0
    validation_examples: int = 0
    tokens: int = 0  # training tokens in one epoch
    max_tokens: int = 0  # the longest example
    tokens_exact: bool = False
    duplicates: int = 0
    overlap: int = 0
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def cost(self, epochs: int, price_per_m: float) -> float:
        """Dollars to train: tokens x epochs x price per million training tokens."""
        return self.tokens * epochs * price_per_m / 1_000_000

    def summary(self, epochs: int = DEFAULT_EPOCHS, price_per_m: float = 0.0) -> str:
        label = "" if self.tokens_exact else " (estimate: characters / 4)"
        lines = [
            f"{self.examples} training examples"
            + (f", {self.validation_examples} validation examples" if self.validation_examples else ""),
            f"{self.tokens:,} training tokens per epoch{label}; longest example {self.max_tokens:,}",
        ]
        if price_per_m:
            lines.append(
                f"estimated cost: ${self.cost(epochs, price_per_m):.2f} for {epochs} epochs at ${price_per_m}/M"
            )
        lines += [f"error: {p}" for p in self.errors] + [f"warning: {p}" for p in self.warnings]
        return "\n".join(lines)


def _estimate(text: str) -> int:
    return len(text) // 4 + 1


def read_examples(path: Path, where: str, report: Validation) -> list[tuple[int, Any]]:
    """Parsed lines (number, object); unreadable lines become errors."""
    try:
        text = read_text(path)
    except InputError as exc:
        report.errors.append(Problem(where, f"cannot use {exc}"))
        return []
    rows = []
    for number, line in jsonl_lines(text):  # split on "\n" only: U+2028 may sit inside a string
        try:
            rows.append((number, loads_json(line, f"{where} line {number}", one_line=True)))
        except InputError as exc:
            line_where, _, message = str(exc).partition(": ")
            report.errors.append(Problem(line_where, message))
    return rows


def check_example(data: Any, where: str, report: Validation) -> list[dict[str, str]] | None:
    """The example's messages when its structure is right; otherwise errors, and None."""
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        report.errors.append(Problem(where, 'expected an object with a "messages" list'))
        return None
    messages = data["messages"]
    if not messages:
        report.errors.append(Problem(where, "no messages"))
        return None
    ok = True
    for k, m in enumerate(messages, start=1):
        if not isinstance(m, dict) or m.get("role") not in ROLES:
            role = m.get("role") if isinstance(m, dict) else None
            report.errors.append(Problem(where, f"message {k}: role must be one of {', '.join(ROLES)}, not {role!r}"))
            ok = False
        elif not isinstance(m.get("content"), str) or not m["content"].strip():
            report.errors.append(Problem(where, f"message {k} ({m['role']}): empty content"))
            ok = False
        elif set(m) - {"role", "content", "name", "weight"}:
            extra = ", ".join(sorted(set(m) - {"role", "content", "name", "weight"}))
            report.errors.append(Problem(where, f"message {k}: unknown field(s) {extra}"))
            ok = False
    if not ok:
        return None
    roles = [m["role"] for m in messages]
    if "user" not in roles:
        report.errors.append(Problem(where, "no user message"))
        return None
    if roles[-1] != "assistant":
        report.errors.append(Problem(where, "the last message must be the assistant's answer"))
        return None
    if "system" in roles[1:]:
        report.warnings.append(Problem(where, "a system message after the first turn"))
    return messages


def validate(
    train: Path,
    validation: Path | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    tokenizer: Callable[[str], int] | None = None,
) -> Validation:
    report = Validation(tokens_exact=tokenizer is not None)
    count = tokenizer or _estimate
    seen: dict[str, str] = {}
    for path, name in ((train, "train"), (validation, "validation")):
        if path is None:
            continue
        for number, data in read_examples(path, name, report):
            where = f"{name} line {number}"
            messages = check_example(data, where, report)
            if messages is None:
                continue
            tokens = sum(count(m["content"]) + 4 for m in messages)
            if tokens > max_tokens:
                report.errors.append(Problem(where, f"{tokens:,} tokens, over the model's {max_tokens:,} per example"))
            key = json.dumps(messages, sort_keys=True)
            if name == "train":
                report.examples += 1
                report.tokens += tokens
                report.max_tokens = max(report.max_tokens, tokens)
                if key in seen:
                    report.duplicates += 1
                seen.setdefault(key, where)
            else:
                report.validation_examples += 1
                if seen.get(key, "").startswith("train"):
                    report.overlap += 1
                    report.errors.append(
                        Problem(where, f"the same example as {seen[key]}: validation must not hold training data")
                    )
    if report.examples < MIN_EXAMPLES:
        report.errors.append(Problem("train", f"{report.examples} usable examples; at least {MIN_EXAMPLES} are needed"))
    elif report.examples < RECOMMENDED_EXAMPLES:
        report.warnings.append(
            Problem("train", f"only {report.examples} examples; {RECOMMENDED_EXAMPLES} or more usually help")
        )
    if report.duplicates:
        report.warnings.append(Problem("train", f"{report.duplicates} duplicate example(s)"))
    return report
