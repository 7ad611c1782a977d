"""Which fields are sealed under data keys, and how a stored envelope reads back before and
after gallring (domain/sealing.py; docs/security.md "Data keys and gallring")."""

from __future__ import annotations

from domain.retention import IDENTITY, PERSONAKT
from domain.sealing import SEALED, SEALED_KEY, SHREDDED, holds_clear_personal, merge, split

ENVELOPE = {
    "type": "anmalan_mottagen",
    "case_id": "c1",
    "data": {
        "anmalan_id": "a1",
        "barn": {"personnummer": "201203041239", "kon": "flicka", "fodelsedatum": "2012-03-04"},
        "anmalare_kategori": "skola",
    },
}


def test_identity_is_sealed_and_kon_stays_readable() -> None:
    stored, secrets = split(ENVELOPE, PERSONAKT)
    assert secrets == {
        IDENTITY: {"barn": {"personnummer": "201203041239", "fodelsedatum": "2012-03-04"}}
    }
    assert stored["data"]["barn"] == {"kon": "flicka", "identitet": "personnummer", "sealed": True}
    assert stored["data"]["anmalare_kategori"] == "skola"
    assert holds_clear_personal(ENVELOPE) and not holds_clear_personal({**stored, SEALED_KEY: {}})
    opened = merge({**stored, SEALED_KEY: {IDENTITY: "t"}}, {IDENTITY: secrets[IDENTITY]})
    assert opened == ENVELOPE


def test_free_text_is_sealed_under_the_class_and_reads_gallrad_without_its_key() -> None:
    ev = {"type": "arende_avslutat", "case_id": "c1", "data": {"orsak": "flyttat till mormor"}}
    stored, secrets = split(ev, PERSONAKT)
    assert stored["data"] == {"orsak": SEALED} and secrets == {PERSONAKT: ev["data"]}
    assert merge({**stored, SEALED_KEY: {PERSONAKT: "t"}}, {PERSONAKT: None})["data"] == {
        "orsak": SHREDDED
    }


def test_an_event_without_personal_fields_is_stored_as_it_is() -> None:
    ev = {"type": "utredning_inledd", "data": {"utredning_id": "u1", "grund": "anmalan"}}
    assert split(ev, PERSONAKT) == (ev, {})
