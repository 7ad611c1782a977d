"""COPY text encoding round-trips through PostgreSQL: what the rebuild writes is what it meant."""

from __future__ import annotations

from datetime import date
from typing import Any

import psycopg

from projections.copytext import copy_text

ROWS: list[tuple[Any, ...]] = [
    ("tab\there", "new\nline\r\n", "back\\slash \\N", None, True, 1.5, 7, date(2026, 2, 28)),
    ("", "å ä ö §", "\\x00", "x", False, 0.1, -3, date(1999, 12, 31)),
]


def test_copy_text_rows_read_back_unchanged(pg_url: str) -> None:
    with psycopg.connect(pg_url) as conn, conn.cursor() as curs:
        curs.execute(
            "CREATE TEMP TABLE ct (a text, b text, c text, d text, e boolean, "
            "f double precision, g integer, h date, i bytea)"
        )
        rows = [(*r, bytes(range(256))) for r in ROWS]
        with curs.copy("COPY ct FROM STDIN") as cp:
            cp.write(copy_text(rows))
        curs.execute("SELECT * FROM ct ORDER BY g DESC")
        assert curs.fetchall() == rows


def test_copy_text_arrays_read_back_unchanged(pg_url: str) -> None:
    """``report_cases.event_types``: a tuple of strings is a ``text[]``, whatever it holds."""
    arrays = [
        (("anmalan_mottagen", "beslut_fattat"),),
        (("a,b", "{c}", 'quote"d', "back\\slash", "tab\there", "NULL", ""),),
        ((),),
    ]
    with psycopg.connect(pg_url) as conn, conn.cursor() as curs:
        curs.execute("CREATE TEMP TABLE ca (n serial, a text[] NOT NULL)")
        with curs.copy("COPY ca (a) FROM STDIN") as cp:
            cp.write(copy_text(arrays))
        curs.execute("SELECT a FROM ca ORDER BY n")
        assert [(tuple(a),) for (a,) in curs.fetchall()] == arrays
