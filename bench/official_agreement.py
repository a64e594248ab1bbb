"""Item-by-item agreement between our scorer and the official Spider evaluator.

The official evaluator (test-suite-sql-eval) is not part of this project: point
``--official`` at a checkout of it. It needs ``nltk`` and ``sqlparse`` (dev extras).
Without NLTK's "punkt" data (no network here) its word tokenizer is run with
``preserve_line=True``, which differs from the sentence-split path only for text with
a full stop followed by a space outside quotes.

Inputs: a dataset folder and a predictions file (one SQL per line, in question order),
or ``--perturbed`` to use a seeded perturbation of the gold queries. On a dataset with
test suites the official execution verdict is compared with our ``ts_match`` (it runs on
every database of the folder), elsewhere with ``exec_match``. Prints every disagreement
and, last, ``exec_agree=.. exact_agree=.. hardness_agree=.. n=..``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.perturb import perturb_all
from workbench.core.data.dataset import Dataset
from workbench.core.scoring import Scorer, parse_predictions
from workbench.core.scoring.spider_sql import empty_sql


def load_official(path: Path) -> dict[str, object]:
    sys.path.insert(0, str(path))
    import nltk

    process_sql = importlib.import_module("process_sql")
    try:
        nltk.word_tokenize("a b")
    except LookupError:
        tokenize = nltk.word_tokenize
        process_sql.word_tokenize = lambda s: tokenize(s, preserve_line=True)  # type: ignore[attr-defined]
    evaluation = importlib.import_module("evaluation")
    exec_eval = importlib.import_module("exec_eval")
    return {"ps": process_sql, "ev": evaluation, "ex": exec_eval}


def official_item(off: dict[str, object], db_root: Path, kmaps: dict, db_id: str, gold: str, pred: str) -> tuple:
    ps, ev, ex = off["ps"], off["ev"], off["ex"]
    pred = pred.replace("value", "1")
    db = str(db_root / db_id / f"{db_id}.sqlite")
    schema = ps.Schema(ps.get_schema(db))  # type: ignore[attr-defined]
    g_sql = ps.get_sql(schema, gold)  # type: ignore[attr-defined]
    level = ev.Evaluator().eval_hardness(g_sql)  # type: ignore[attr-defined]
    try:
        p_sql = ps.get_sql(schema, pred)  # type: ignore[attr-defined]
    except Exception:
        p_sql = empty_sql()  # the evaluator scores an unparsable prediction as this empty query
    exec_ok = bool(
        ex.eval_exec_match(
            db=db,
            p_str=pred,
            g_str=gold,
            plug_value=False,  # type: ignore[attr-defined]
            keep_distinct=False,
            progress_bar_for_each_datapoint=False,
        )
    )
    kmap = kmaps[db_id]
    g_valid = ev.build_valid_col_units(g_sql["from"]["table_units"], schema)  # type: ignore[attr-defined]
    g_sql = ev.rebuild_sql_col(g_valid, ev.rebuild_sql_val(g_sql), kmap)  # type: ignore[attr-defined]
    p_valid = ev.build_valid_col_units(p_sql["from"]["table_units"], schema)  # type: ignore[attr-defined]
    p_sql = ev.rebuild_sql_col(p_valid, ev.rebuild_sql_val(p_sql), kmap)  # type: ignore[attr-defined]
    exact_ok = bool(ev.Evaluator().eval_exact_match(p_sql, g_sql))  # type: ignore[attr-defined]
    return level, exec_ok, exact_ok


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--official", type=Path, required=True, help="checkout of test-suite-sql-eval")
    ap.add_argument("--dataset", type=Path, required=True)
    ap.add_argument("--split", default="dev", help="split name or gold file (SQL<TAB>db_id)")
    ap.add_argument("--predictions", type=Path)
    ap.add_argument("--perturbed", type=int, metavar="SEED", help="use perturbed gold queries as predictions")
    args = ap.parse_args()

    off = load_official(args.official)
    dataset = Dataset(args.dataset)
    split = dataset.load_split(args.split)
    if args.predictions:
        preds = parse_predictions(args.predictions.read_text(encoding="utf-8"))
    else:
        preds = perturb_all([i.query for i in split.items], seed=args.perturbed or 7)
    kmaps = off["ev"].build_foreign_key_map_from_json(str(dataset.tables_path))  # type: ignore[attr-defined]
    with Scorer(dataset) as scorer:
        ours = scorer.score(split.items, preds)
    agree = {"exec": 0, "exact": 0, "hardness": 0}
    n = 0
    for item, pred, v in zip(split.items, preds, ours, strict=True):
        if v.status == "unscorable":
            continue
        n += 1
        level, ex_ok, em_ok = official_item(off, dataset.root / "database", kmaps, item.db_id, item.query, pred)
        # the official evaluator runs every *.sqlite of the folder: on a test suite its figure is our TS
        ours_exec = v.exec_match if v.ts_match is None else v.ts_match
        for key, theirs, mine in (
            ("exec", ex_ok, ours_exec),
            ("exact", em_ok, v.exact_match),
            ("hardness", level, v.hardness),
        ):
            if theirs == mine:
                agree[key] += 1
            else:
                print(
                    f"[{item.index}] {key}: official={theirs} ours={mine}\n  gold: {item.query}\n  pred: {pred}\n"
                    f"  reason: {v.reason}"
                )
    pct = {k: 100.0 * c / max(n, 1) for k, c in agree.items()}
    print(f"exec_agree={pct['exec']:.2f} exact_agree={pct['exact']:.2f} hardness_agree={pct['hardness']:.2f} n={n}")


if __name__ == "__main__":
    main()
