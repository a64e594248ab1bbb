"""Building a distilled test suite for a Spider-format dataset (Zhong, Yu and Klein, EMNLP 2020).

shape       what a database is made of: tables, keys, its DDL and the real values of each column
fill        random databases with that shape: values from the real pools, keys kept, joins still hit
neighbours  near neighbours of a gold query (operators, aggregates, joins, DISTINCT, LIMIT, columns)
distill     which candidate databases tell each gold query from its neighbours; a greedy set cover
build       the whole dataset: candidates per schema, distilled, written as ``<db_id>_tsN.sqlite``
"""

from workbench.core.scoring.testsuite.build import SuiteError, SuiteOptions, SuiteReport, generate_suite

__all__ = ["SuiteError", "SuiteOptions", "SuiteReport", "generate_suite"]
