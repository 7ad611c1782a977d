"""Review findings on the LVU / lag (2026:1600) rules, one test (or a few) per finding.

Each test states the statute text it checks against (/work/shared/law/lvu-1990-52.md and
lag-2026-1600.md) and fails on the code before its fix.
"""

from __future__ import annotations

from datetime import date

from frist_builders import ev

from domain.events import CaseEvent
from domain.frister import MET, compute_frister

D = date.fromisoformat


def _keys(evs: list[CaseEvent], as_of: date | None = None) -> dict[str, object]:
    return {f.key: f for f in compute_frister(evs, as_of=as_of)}


def opening() -> CaseEvent:
    return ev("anmalan_mottagen", "2027-01-05", anmalan_id="a1")


# --- finding 4: E3 runs only from the verkställighet of an omedelbart omhändertagande ------------


def test_verkstallighet_after_a_dom_starts_no_e3() -> None:
    """5 kap. 5 § / LVU 8 §: the four weeks run from an omedelbart omhändertagande's verkställighet.

    Ansökan, dom (bifall), verkställt: the verkställighet carries out the dom (E5, 6 kap. 4 §);
    before the fix it also started E3:v1, overdue in the permanent record.
    """
    evs = [
        opening(),
        ev("lvu_ansokan_inlamnad", "2027-01-10", beslut_id="v1", grund="hem"),
        ev("lvu_dom", "2027-02-01", utfall="bifall", beslut_id="v1", grund="hem"),
        ev("lvu_omhandertagande_verkstallt", "2027-02-03", beslut_id="v1"),
    ]
    got = _keys(evs, as_of=D("2027-06-01"))
    assert not [k for k in got if k.startswith("E3:")]
    assert got["E5:v1"].status == MET  # type: ignore[attr-defined]


def test_verkstallighet_of_omedelbart_omhandertagande_still_starts_e3() -> None:
    evs = [
        opening(),
        ev("lvu_omhandertagande_beslutat", "2027-01-10", beslut_id="l1"),
        ev("lvu_omhandertagande_verkstallt", "2027-01-10", beslut_id="l1"),
    ]
    e3 = _keys(evs)["E3:l1"]
    assert e3.due == D("2027-02-07")  # type: ignore[attr-defined]
