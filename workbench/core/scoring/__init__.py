"""Spider scoring: execution match, exact-set match and hardness, item by item.

``Scorer`` is the entry point; the sub-modules hold the pure rules:
  sqltokens   tokenisation as the official evaluator does it
  spider_sql  the evaluator's clause structure and grammar
  exact       exact-set match and hardness on that structure
  execution   comparing result rows
  scorer      running it over a dataset, in parallel
  gold_cache  gold results on disk, keyed by database content, gold SQL and limits
"""

from workbench.core.scoring.exact import HARDNESS_LEVELS
from workbench.core.scoring.scorer import Scorer, Verdict, parse_predictions, summarize

__all__ = ["HARDNESS_LEVELS", "Scorer", "Verdict", "parse_predictions", "summarize"]
