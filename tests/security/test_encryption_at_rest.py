"""Someone with a copy of the database (backup, dump, disk) learns no identity, name or text."""

from __future__ import annotations

import psycopg
from psycopg import sql

from domain.ids import case_id_for
from infra.persistence.cipher import MAGIC, Keyring, stored_key_id
from infra.persistence.store import EVENTS_TABLE, CaseStore
from tests.conftest import CIPHER_KEY
from tests.factories import PNR_BOY, PNR_GIRL
from tests.security.records import SECRETS_IN_CLEAR, anmalan_case, ansokan_case, personnummer_forms


def _dump(pg_url: str, schema: str) -> dict[str, list[bytes]]:
    """Every row of every table in the store's schema, as raw text and raw ``state`` bytes."""
    out: dict[str, list[bytes]] = {}
    with psycopg.connect(pg_url) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
        ]
        for table in tables:
            ident = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
            rows = conn.execute(sql.SQL("SELECT t::text FROM {} t").format(ident)).fetchall()
            out[table] = [r[0].encode() for r in rows]
        states = conn.execute(
            sql.SQL("SELECT state FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(EVENTS_TABLE)
            )
        ).fetchall()
        out["<state bytes>"] = [bytes(r[0]) for r in states]
    return out


def _needles() -> list[bytes]:
    texts = [*personnummer_forms(PNR_GIRL), *personnummer_forms(PNR_BOY), *SECRETS_IN_CLEAR]
    needles = set()
    for t in texts:
        needles.add(t.encode())
        needles.add(t.encode("unicode_escape"))  # JSON may escape å/ä/ö as \u00e5
        needles.add(t.encode("utf-8").hex().encode())  # bytea shown as hex in ::text
    return sorted(needles)


def test_raw_tables_hold_no_personnummer_name_or_free_text(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    events = [*anmalan_case("VS-2025-00101"), *ansokan_case("VS-2025-00102")]
    for ev in events:
        store.record(ev)

    dump = _dump(pg_url, schema)
    assert len(dump[EVENTS_TABLE]) == len(events)
    for table, rows in dump.items():
        for row in rows:
            for needle in _needles():
                assert needle not in row, f"{needle!r} readable in {table}"

    # Decrypted with the kommun's key, the rows hold the identity and free text only sealed
    # under the cases' data keys (docs/security.md "Data keys and gallring"): gallring can
    # destroy them without touching a row. The store opens them (below): the search could
    # have found them had they been stored in clear.
    keyring = Keyring(CIPHER_KEY)
    plain = b"".join(keyring.decrypt(s) for s in dump["<state bytes>"])
    assert PNR_GIRL.encode() not in plain and PNR_BOY.encode() not in plain
    assert b'"sealed":{"identitet":"BFS1.' in plain
    assert all(stored_key_id(s) == keyring.current_key_id for s in dump["<state bytes>"])
    assert all(s.startswith(MAGIC) for s in dump["<state bytes>"])

    # and the store itself reads everything back
    back = store.case_events(case_id_for("1280", "VS-2025-00101"))
    assert back[0].data["barn"]["personnummer"] == PNR_GIRL
    assert [e.data.get("skal") for e in back if e.type == "barnet_ej_hort"] == [SECRETS_IN_CLEAR[3]]
