"""Finding a report's protected cases (``projections.protection``) through the partial index of
the cases that may be protected: the same cases as before, the index usable by that query (its
condition must repeat the index's predicate word for word), and created in place on views
written before it."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
from psycopg import sql

from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.protection import candidates_query, protected_refs
from projections.runner import caught_up
from projections.view import ReportsView, open_view
from tests.conftest import CIPHER_KEY
from tests.factories import PNR_BOY, PNR_GIRL, PNR_THIRD, line

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INDEX = "report_cases_skydd"


def _case(ref: str, pnr: str, *skydd: str) -> list[str]:
    opening = {"anmalan_id": "a1", "barn": {"personnummer": pnr, "kon": "flicka"},
               "anmalare_kategori": "skola", "enhet": "barn-vast"}  # fmt: skip
    out = [line("anmalan_mottagen", opening, at=AT, key=f"{ref}-1", case_ref=ref)]
    mark = {"skydd": "kvarskrivning", "person": "vardnadshavare_1"}
    for i, kind in enumerate(skydd, start=2):
        out.append(line(kind, mark, at=AT, key=f"{ref}-{i}", case_ref=ref))
    return [orjson.dumps(x).decode() for x in out]


@pytest.fixture
def env(store: CaseStore, pg_url: str, schema: str) -> dict[str, str]:
    """A plain case, a protected one and one whose protection ended; the store's environment."""
    import_lines(store, _case("PI-PLAIN", PNR_THIRD))
    import_lines(store, _case("PI-SKYDD", PNR_GIRL, "skydd_markerat"))
    import_lines(store, _case("PI-UPPHORT", PNR_BOY, "skydd_markerat", "skydd_upphort"))
    return eventsourcing_env(pg_url, schema, CIPHER_KEY)


def test_protected_refs_are_the_protected_cases_among_the_reports_refs(
    env: dict[str, str], schema: str
) -> None:
    with caught_up(env) as runner, runner.view.cursor() as curs:
        every = {"PI-PLAIN", "PI-SKYDD", "PI-UPPHORT"}
        assert protected_refs(curs, schema, "1280", every, runner.view.unseal) == {"PI-SKYDD"}
        others = {"PI-PLAIN", "PI-UPPHORT"}  # a report not listing the protected case
        assert protected_refs(curs, schema, "1280", others, runner.view.unseal) == set()
        assert protected_refs(curs, schema, "0127", every, runner.view.unseal) == set()


def test_the_candidates_query_can_use_the_partial_index(env: dict[str, str], schema: str) -> None:
    with caught_up(env) as runner, runner.view.cursor() as curs:
        curs.execute("SET LOCAL enable_seqscan = off")  # a tiny table: force the choice
        curs.execute(
            sql.SQL("EXPLAIN ") + candidates_query(schema),  # type: ignore[operator]
            ("1280",),
        )
        plan = "\n".join(str(next(iter(r.values()))) for r in curs.fetchall())
    assert INDEX in plan, plan


def test_views_written_before_the_index_get_it_when_a_process_opens_them(
    env: dict[str, str], schema: str
) -> None:
    with caught_up(env) as runner:
        with runner.view.cursor(commit=True) as curs:
            curs.execute(
                sql.SQL("DROP INDEX {}.{}").format(sql.Identifier(schema), sql.Identifier(INDEX))
            )
        assert _index(runner.view, schema) == []  # as in views of an earlier release
    view = open_view(env)
    try:
        [definition] = _index(view, schema)
    finally:
        view.datastore.close()
    assert "WHERE ((event_types IS NULL) OR (event_types &&" in definition


def _index(view: ReportsView, schema: str) -> list[str]:
    with view.cursor() as curs:
        curs.execute(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = %s AND indexname = %s",
            (schema, INDEX),
        )
        return [r["indexdef"] for r in curs.fetchall()]
