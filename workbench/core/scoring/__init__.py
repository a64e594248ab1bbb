"""Spider scoring: execution match, exact-set match and hardness, item by item.

``Scorer`` is the entry point; the sub-modules hold the pure rules:
  sqltokens   tokenisation as the official evaluator does it
  spider_sql  the evaluator's clause structure and grammar
  exact       exact-set match and hardness on that structure
  execution   comparing result rows
  scorer      running it over a dataset, in parallel
  gold_cache  gold results on disk, keyed by database content, gold SQL and limits

The names below load with their module when first used, so that importing a light sub-module
(``predictions``, ``extract``) does not load the scorer and its worker pool (start-up).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workbench.core.data.items import HARDNESS_LEVELS
    from workbench.core.scoring.scorer import Scorer, Verdict, parse_predictions, summarize

__all__ = ["HARDNESS_LEVELS", "Scorer", "Verdict", "parse_predictions", "summarize"]
_SCORER = "workbench.core.scoring.scorer"
_HOMES = {"HARDNESS_LEVELS": "workbench.core.data.items", "Scorer": _SCORER, "Verdict": _SCORER,
          "parse_predictions": _SCORER, "summarize": _SCORER}  # fmt: skip


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
