"""The report views hold no readable case content (issue #5, problem 4).

Free text (EVB reasons and offers, why a child was not heard, avbrott and avslut reasons,
förlängning reasons) and personnummer must not be readable from the view tables by anyone with
database access only; the reports that need a reason still show it, decrypted on the way out.
"""

from __future__ import annotations

from datetime import date

import orjson
from psycopg import sql

from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.periods import parse_period
from projections.reports import REPORTS
from projections.runner import caught_up, rebuild
from projections.tables import ALL_TABLES
from tests.conftest import CIPHER_KEY
from tests.factories import PNR_BOY, PNR_GIRL, PNR_THIRD
from tests.projections.test_as_of import CASES, LOADED, _Case

FREE_TEXT = (
    "SKAL-FB-EXT",
    "SKAL-U-EXT",
    "SKAL-EVB",
    "ERBJUDET-EVB",
    "SKAL-AVBROTT",
    "ORSAK-AVSLUT",
    "SKAL-EJ-HORT",
)
IDENTITIES = tuple(p for pnr in (PNR_BOY, PNR_GIRL, PNR_THIRD) for p in (pnr, pnr[2:]))
#: The appellant's label (a role, but a calling system could write a name): no view keeps it.
PART = "ombud_partnamn"


def _appealed() -> _Case:
    """An utredning's avslag, delgivet to a named party who appeals it to the court."""
    c = _Case("AS-OK", PNR_THIRD, "annat", date(2026, 1, 12))
    c.add(date(2026, 1, 12), "utredning_inledd", {"utredning_id": "U1", "grund": "anmalan"})
    c.add(date(2026, 2, 2), "utredning_avslutad", {"utredning_id": "U1", "utfall": "avslag"})
    avslag = {"beslut_id": "B1", "lagrum": "SoL 11 kap. 1 §", "beslutstyp": "avslag"}
    c.add(
        date(2026, 2, 2),
        "beslut_fattat",
        {**avslag, "gynnande": False, "delegat": {"id": "d1", "roll": "utskott"}},
    )
    c.add(date(2026, 2, 3), "beslut_delgivet", {"beslut_id": "B1", "part": PART})
    c.add(
        date(2026, 2, 20),
        "overklagande_mottaget",
        {"overklagande_id": "O1", "beslut_id": "B1", "part": PART},
    )
    c.add(date(2026, 2, 23), "rattidsprovning_gjord", {"overklagande_id": "O1", "i_tid": True})
    c.add(date(2026, 2, 24), "overklagande_overlamnat", {"overklagande_id": "O1"})
    return c  # fmt: skip


def _raw_views(env: dict[str, str], schema: str) -> str:
    """Every view row as PostgreSQL prints it (bytea as hex, text as is)."""
    with caught_up(env) as runner, runner.view.cursor() as curs:
        out = []
        for table in ALL_TABLES:
            curs.execute(
                sql.SQL("SELECT t::text AS r FROM {}.{} t").format(
                    sql.Identifier(schema), sql.Identifier(table.name)
                )
            )
            rows = [r["r"] for r in curs.fetchall()]
            assert rows or table.name == "insats_uppfoljningar", table.name
            out.extend(rows)
    return "\n".join(out)


def test_after_rebuild_no_view_table_holds_free_text_or_a_personnummer(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    lines = [ln for build in (*CASES, _appealed) for ln in build().jsonl()]
    assert all(any(t in ln for ln in lines) for t in (*FREE_TEXT, PART))  # the record has them
    import_lines(store, lines, now=LOADED)
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    incremental = _raw_views(env, schema)
    rebuild(env)
    rebuilt = _raw_views(env, schema)
    for dump in (incremental, rebuilt):
        hex_dump = dump.lower()
        for secret in (*FREE_TEXT, *IDENTITIES, PART):
            assert secret not in dump, secret
            assert secret.encode().hex() not in hex_dump, secret  # not even as plain bytea

    # the EVB report still gives IVO the latest reason and what was offered, decrypted
    spec = REPORTS["evb"]
    doc = spec.build(env, "1280", parse_period("quarter", "2026Q3"))
    (row,) = [r for r in doc["rows"] if r["case_ref"] == "AS-1"]
    assert (row["skal"], row["erbjudet"], row["status"]) == ("SKAL-EVB", "ERBJUDET-EVB", "ny")
    rost = REPORTS["barnets-rost"].build(env, "1280", parse_period("half", "2025H1"))
    assert "SKAL-EJ-HORT" in orjson.dumps(rost["ej_hord"]).decode()
