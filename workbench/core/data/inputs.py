"""Reading input files (JSON, JSONL, TOML, text) so that every problem is one clear line.

Each problem names the file, a position (``line 3, column 7``, or where in the structure:
``[0]: concurrency``) and what was expected. A UTF-8 BOM is accepted everywhere; JSONL
is split on ``\\n`` only (a U+2028 inside a string is not a line break); numbers with
thousands of digits, ``NaN``/``Infinity`` and nesting past the parser's depth are
reported, not raised. Readers pass their own error class (``DatasetError``,
``ProfileError``...), a subclass of :class:`InputError`.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

MAX_INT_DIGITS = 4300  # Python's own limit for int(str); a longer number is a problem, not a crash
MAX_DEPTH_SHOWN = 100  # where nesting is reported when the parser runs out of stack


class InputError(ValueError):
    """An input file is unusable; the message is one line: file, position, what was expected."""


class _TooBig(ValueError):
    def __init__(self, token: str, what: str) -> None:
        super().__init__(what)
        self.token = token
        self.what = what


def one_line(text: str) -> str:
    """``text`` with every character that would break a line (CR, U+2028, ...) escaped."""
    return "".join(ch.encode("unicode_escape").decode() if len(f"a{ch}a".splitlines()) > 1 else ch for ch in text)


def position(text: str, offset: int) -> str:
    """``line L, column C`` (1-based) of a character offset in ``text``."""
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"line {line}, column {column}"


_KINDS = (
    (bool, "a boolean"),
    (int, "an integer"),
    (float, "a number"),
    (str, "a string"),
    (list, "a list"),
    (dict, "an object"),
)  # fmt: skip  (bool before int: True is an int too)


def type_name(value: Any) -> str:
    """A value's kind in the file's own words (JSON/TOML), for 'expected X, got Y'."""
    if value is None:
        return "null"
    return next((name for kind, name in _KINDS if isinstance(value, kind)), type(value).__name__)


def read_bytes(path: Path, error: type[InputError] = InputError) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise error(f"{path}: file not found") from None
    except IsADirectoryError:
        raise error(f"{path}: is a folder; expected a file") from None
    except PermissionError:
        raise error(f"{path}: permission denied") from None
    except OSError as exc:
        raise error(f"{path}: cannot read ({exc.strerror or exc})") from None


def decode(path: Path, raw: bytes, error: type[InputError] = InputError) -> str:
    """UTF-8 text (a leading BOM dropped), or one line saying where it is not UTF-8."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        what = f"byte 0x{raw[exc.start]:02x} is not UTF-8; expected UTF-8 text"
        raise error(f"{path}: line {line}, column {column}: {what}") from None


def read_text(path: Path, error: type[InputError] = InputError) -> str:
    """A UTF-8 text file (BOM accepted), or ``error`` saying why not."""
    return decode(path, read_bytes(path, error), error)


def _parse_int(token: str) -> int:
    if len(token.lstrip("-")) > MAX_INT_DIGITS:
        raise _TooBig(token, f"a number with {len(token)} digits; expected at most {MAX_INT_DIGITS}")
    return int(token)


def _parse_constant(token: str) -> float:
    raise _TooBig(token, f"{token} is not a JSON number; expected a finite number")


def _parse_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise _TooBig(token, f"{token[:20]}{'…' if len(token) > 20 else ''} is out of range; expected a finite number")
    return value


def _depth_offset(text: str, limit: int) -> int:
    """Offset where brackets outside strings first nest ``limit`` deep (0 if they never do)."""
    depth, in_string, escaped = 0, False, False
    for offset, char in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth >= limit:
                return offset
        elif char in "]}":
            depth -= 1
    return 0


def _decode_json(text: str) -> Any:
    """``json.loads`` within our bounds. Python's own limit on an integer's digits is MAX_INT_DIGITS, so
    integers are read by the C parser unhooked (a Spider dev.json holds ~16,000: 25 ms saved); only when
    one passes the limit does the hooked pass run, to name it."""
    if sys.get_int_max_str_digits() == MAX_INT_DIGITS:
        try:
            return json.loads(text, parse_float=_parse_float, parse_constant=_parse_constant)
        except (json.JSONDecodeError, _TooBig):
            raise
        except ValueError:
            pass  # an integer past the limit: the pass below says which
    return json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant)


def loads_json(text: str, where: str, error: type[InputError] = InputError, one_line: bool = False) -> Any:
    """Parse JSON text; ``where`` names it in errors (a file, or ``train line 12`` with ``one_line``)."""

    def at(offset: int) -> str:
        return f"column {offset + 1}" if one_line else position(text, offset)

    try:
        return _decode_json(text)
    except json.JSONDecodeError as exc:
        raise error(f"{where}: {'not JSON' if one_line else 'malformed JSON'} at {at(exc.pos)}: {exc.msg}") from None
    except _TooBig as exc:
        raise error(f"{where}: {at(max(0, text.find(exc.token)))}: {exc.what}") from None
    except RecursionError:
        deep = at(_depth_offset(text, MAX_DEPTH_SHOWN))
        raise error(f"{where}: {deep}: nested too deeply; expected at most ~{MAX_DEPTH_SHOWN} levels") from None


def read_json(path: Path, error: type[InputError] = InputError) -> Any:
    return loads_json(read_text(path, error), str(path), error)


def jsonl_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) for each non-blank line; split on ``\\n`` only, a trailing ``\\r`` dropped."""
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if line.strip():
            yield number, line


def read_toml(path: Path, error: type[InputError] = InputError) -> dict[str, Any]:
    import tomllib  # only where a TOML file is read: not on the way to scoring a file

    text = read_text(path, error)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: {exc}") from None
    except ValueError:  # Python's own limit on the digits of an integer
        run = next((m for m in re.finditer(r"\d+", text) if len(m.group()) > MAX_INT_DIGITS), None)
        at = position(text, run.start()) if run else "line 1, column 1"
        raise error(f"{path}: {at}: a number with too many digits; expected at most {MAX_INT_DIGITS}") from None
    except RecursionError:
        at = position(text, _depth_offset(text, MAX_DEPTH_SHOWN))
        raise error(f"{path}: {at}: nested too deeply; expected at most ~{MAX_DEPTH_SHOWN} levels") from None


# --- typed fields ------------------------------------------------------------------------
def expect(value: Any, kind: str, where: str, error: type[InputError] = InputError) -> None:
    """Raise ``error`` unless ``value`` is of ``kind``: string, integer, number, boolean, list, object."""
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "list": isinstance(value, list),
        "object": isinstance(value, dict),
    }[kind]
    if not ok:
        article = "an" if kind[0] in "aeiou" else "a"
        raise error(f"{where}: expected {article} {kind}, got {type_name(value)}")


def expect_range(
    value: float,
    where: str,
    error: type[InputError] = InputError,
    minimum: float | None = None,
    above: float | None = None,
) -> None:
    """``value >= minimum`` and/or ``value > above``; numbers must be finite."""
    if isinstance(value, float) and not math.isfinite(value):
        raise error(f"{where}: expected a finite number, got {value}")
    if minimum is not None and value < minimum:
        raise error(f"{where}: expected at least {minimum}, got {value}")
    if above is not None and value <= above:
        raise error(f"{where}: expected more than {above}, got {value}")
