"""Prediction files for `workbench score`: one SQL per line, or BIRD's JSON object.

BIRD's form (what its evaluation scripts read): ``{"0": "SQL\\t----- bird -----\\tdb_id", "1": ...}``, one
entry per question keyed by its position. A value without the separator is all SQL; ``null`` is an empty
prediction (no answer). Every problem is one line naming the file, the key and what was expected.
"""

from __future__ import annotations

from workbench.core.data import inputs

BIRD_SEPARATOR = "\t----- bird -----\t"


class PredictionsError(inputs.InputError):
    """The predictions file is unusable; the message names the file and the entry."""


def looks_like_bird_json(text: str) -> bool:
    """Whether the file is a JSON object (BIRD's form); no SQL line starts with ``{``."""
    return text.lstrip("\ufeff \t\r\n").startswith("{")


def parse_bird_predictions(text: str, where: str, count: int) -> list[tuple[str, str]]:
    """(SQL, db_id or '') per question, in question order, from BIRD's JSON object of ``count`` entries."""
    data = inputs.loads_json(text.lstrip("\ufeff"), where, PredictionsError)
    if not isinstance(data, dict):
        raise PredictionsError(f"{where}: expected a JSON object of predictions, got {inputs.type_name(data)}")
    by_index: dict[int, tuple[str, str]] = {}
    for key, value in data.items():
        if not (key.strip().isdigit() and int(key) < count):
            raise PredictionsError(f"{where}: key {key!r}: expected a question index, 0 to {count - 1}")
        if int(key) in by_index:
            raise PredictionsError(f"{where}: key {key!r}: question {int(key)} has a prediction already")
        if value is None:
            by_index[int(key)] = ("", "")
            continue
        if not isinstance(value, str):
            raise PredictionsError(
                f"{where}: key {key!r}: expected a string 'SQL<TAB>----- bird -----<TAB>db_id', "
                f"got {inputs.type_name(value)}"
            )
        sql, sep, db_id = value.partition(BIRD_SEPARATOR)
        by_index[int(key)] = (sql.strip(), db_id.strip() if sep else "")
    missing = [k for k in range(count) if k not in by_index]
    if missing:
        shown = ", ".join(str(k) for k in missing[:5]) + (", ..." if len(missing) > 5 else "")
        raise PredictionsError(
            f"{where}: {len(by_index)} predictions for {count} questions; none for question(s) {shown}"
        )
    return [by_index[k] for k in range(count)]
