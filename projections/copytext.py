"""Rows → PostgreSQL ``COPY ... FROM STDIN`` text format, without a connection.

A rebuild folds cases in worker processes; they hand the writer finished COPY bytes, so the one
process that owns the rebuild's transaction only streams bytes into it (no per-row adaptation,
no pickling of row tuples). The value types are the few the view tables use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str) -> str:
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value  # the common case: ids, codes, ISO dates


def _bytes(value: bytes) -> str:
    return "\\\\x" + value.hex()


def _array(value: tuple[str, ...]) -> str:
    """A ``text[]`` literal: every element double-quoted (so commas, braces and blanks stay
    inside it), its backslashes and quotes escaped, then the whole escaped for COPY text."""
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in value)
    return _text("{" + ",".join(quoted) + "}")


def _none(value: None) -> str:
    return "\\N"


def _bool(value: bool) -> str:
    return "t" if value else "f"


#: Converters by exact type (a dict lookup per value: the rebuild formats millions of them).
_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: _text,
    type(None): _none,
    bool: _bool,
    int: repr,
    float: repr,
    date: date.isoformat,
    datetime: datetime.isoformat,
    bytes: _bytes,
    tuple: _array,
}


def _field(value: Any) -> str:
    convert = _BY_TYPE.get(type(value))
    if convert is None:
        raise TypeError(f"no COPY text form for {type(value).__name__}")
    return convert(value)


def copy_text(rows: Iterable[tuple[Any, ...]]) -> bytes:
    """The COPY text-format bytes of ``rows`` (one line per row, tab-separated, ``\\N`` = NULL)."""
    by_type = _BY_TYPE
    lines: list[str] = []
    append = lines.append
    for row in rows:
        try:
            # the three commonest values inline (no call): a plain str, NULL, a date
            append(
                "\t".join(
                    [
                        (
                            v
                            if "\\" not in v and "\t" not in v and "\n" not in v and "\r" not in v
                            else _text(v)
                        )
                        if type(v) is str
                        else "\\N"
                        if v is None
                        else v.isoformat()
                        if type(v) is date
                        else by_type[type(v)](v)
                        for v in row
                    ]
                )
            )
        except KeyError:
            append("\t".join(map(_field, row)))
    lines.append("")
    return "\n".join(lines).encode()
