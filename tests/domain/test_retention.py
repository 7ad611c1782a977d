"""Gallring classes and dates (domain/retention.py; docs/law.md §10): what a registrator
would check against SoL 2025:400 16 kap., SoF 2025:468 13:1 and SFS 2025:1501 ÖB 2."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from domain.calendar import STOCKHOLM
from domain.events import CaseEvent, parse_event
from domain.identity import luhn_check_digit
from domain.retention import (
    PERSONAKT,
    PLACERING,
    UTREDNING,
    classify_case,
    gallring_deadline,
    plan_person,
    research_sample,
)


def pnr(born: date, nnn: str = "238") -> str:
    """A Luhn-valid 12-digit personnummer born on ``born`` (made up)."""
    nine = f"{born:%y%m%d}{nnn}"
    return f"{born:%Y%m%d}{nnn}{luhn_check_digit(nine)}"


class Case:
    """Builds one case's events in order with positions (as the store would give them)."""

    def __init__(self, ref: str = "VS-1", kommun: str = "1280", born: date = date(2010, 3, 4)):
        self.ref, self.kommun, self.born = ref, kommun, born
        self.events: list[CaseEvent] = []

    def add(self, etype: str, day: date, **data: Any) -> Case:
        at = datetime.combine(day, time(10), STOCKHOLM)
        ev = parse_event(
            {
                "kommun": self.kommun,
                "case_ref": self.ref,
                "type": etype,
                "occurred_at": at.isoformat(),
                "actor": {"id": "u1", "roll": "socialsekreterare"},
                "idempotency_key": f"{self.ref}-{len(self.events)}",
                "data": data,
            }
        )
        object.__setattr__(ev, "position", len(self.events) + 1)
        self.events.append(ev)
        return self

    def anmalan(self, day: date, anmalan_id: str = "a1") -> Case:
        barn = {"personnummer": pnr(self.born), "kon": "flicka"}
        return self.add("anmalan_mottagen", day, anmalan_id=anmalan_id, barn=barn,
                        anmalare_kategori="skola")  # fmt: skip


def utredd_case(born: date = date(2010, 3, 4), kommun: str = "1280", ref: str = "VS-1") -> Case:
    """Anmälan 2020, utredning, öppenvård, avslutat 2021-06-01."""
    c = Case(ref=ref, born=born, kommun=kommun).anmalan(date(2020, 1, 10))
    c.add("skyddsbedomning_gjord", date(2020, 1, 10), anmalan_id="a1", omedelbart_skydd=False)
    c.add("forhandsbedomning_beslutad", date(2020, 1, 20), anmalan_id="a1",
          beslut="inleda_utredning")  # fmt: skip
    c.add("utredning_inledd", date(2020, 1, 20), utredning_id="u1", grund="anmalan",
          anmalan_id="a1")  # fmt: skip
    c.add("utredning_avslutad", date(2020, 5, 1), utredning_id="u1", utfall="insats")
    c.add("beslut_fattat", date(2020, 5, 2), beslut_id="b1", lagrum="SoL 4:1",
          beslutstyp="bistand", insats="oppenvard", gynnande=True,
          delegat={"id": "u1", "roll": "socialsekreterare"})  # fmt: skip
    c.add("insats_verkstalld", date(2020, 5, 10), beslut_id="b1")
    c.add("beslut_avslutat", date(2021, 5, 1), beslut_id="b1", orsak="klar")
    c.add("arende_avslutat", date(2021, 6, 1), orsak="klar")
    return c


def test_research_sample_follows_sof_13_1() -> None:
    assert research_sample("1280", date(2010, 3, 5))
    assert research_sample("1280", date(2010, 3, 15))
    assert research_sample("1280", date(2010, 3, 25))
    assert not research_sample("1280", date(2010, 3, 4))
    # Östergötland (05), Gotland (0980), Västernorrland (22), Göteborg (1480): everyone
    for kommun in ("0580", "0980", "2281", "1480"):
        assert research_sample(kommun, date(2010, 3, 4)), kommun
    assert not research_sample("1490", date(2010, 3, 4))  # Borås: Västra Götaland, not Göteborg
    assert research_sample("1280", None)  # POL-GALLRING-FORSKNING


def test_deadline_is_end_of_following_calendar_year() -> None:
    assert gallring_deadline(date(2026, 6, 1)) == date(2027, 12, 31)
    assert gallring_deadline(date(2026, 1, 1)) == date(2027, 12, 31)


def test_a_case_closed_before_2026_01_15_keeps_its_utredning_five_years_only() -> None:
    plan = plan_person("1280", [utredd_case().events])
    by_class = {c.klass: c for c in plan.classes}
    assert set(by_class) == {UTREDNING, PERSONAKT}
    # last entry 2021-06-01 → duty 2026-06-01 (SoL 2025:400 16:1), done by 2027-12-31
    for c in by_class.values():
        assert c.due == date(2026, 6, 1)
        assert c.deadline == date(2027, 12, 31)
    assert "G-UTREDNING-OB" in [x.rule for x in by_class[UTREDNING].citations]
    assert by_class[UTREDNING].status(date(2026, 5, 31)) == "vantar"
    assert by_class[UTREDNING].status(date(2026, 6, 1)) == "gallras"


def test_a_case_open_on_2026_01_15_keeps_its_utredning_until_thirty() -> None:
    c = utredd_case()
    c.events.pop()  # not avslutat before 2026-01-15 ...
    c.add("arende_avslutat", date(2026, 2, 1), orsak="klar")  # ... but after
    plan = plan_person("1280", [c.events])
    by_class = {x.klass: x for x in plan.classes}
    assert by_class[PERSONAKT].due == date(2031, 2, 1)
    assert by_class[UTREDNING].due == date(2040, 3, 4)  # 30th birthday of a child born 2010-03-04
    assert by_class[UTREDNING].citations[-1].paragraph == "SoL 2025:400 16:2 a första st."


def test_not_investigated_anmalan_is_personakt_even_in_a_case_with_an_utredning() -> None:
    c = Case().anmalan(date(2026, 2, 1), "a1")
    c.add("forhandsbedomning_beslutad", date(2026, 2, 5), anmalan_id="a1",
          beslut="inte_inleda_utredning")  # fmt: skip
    c.anmalan(date(2026, 3, 1), "a2")
    c.add("forhandsbedomning_beslutad", date(2026, 3, 5), anmalan_id="a2",
          beslut="inleda_utredning")  # fmt: skip
    c.add("utredning_inledd", date(2026, 3, 5), utredning_id="u1", grund="anmalan",
          anmalan_id="a2")  # fmt: skip
    assert classify_case(c.events) == [PERSONAKT, PERSONAKT, UTREDNING, UTREDNING, UTREDNING]


def test_placement_documents_are_never_gallrade() -> None:
    c = Case().anmalan(date(2018, 1, 10))
    c.add("utredning_inledd", date(2018, 1, 11), utredning_id="u1", grund="anmalan",
          anmalan_id="a1")  # fmt: skip
    c.add("beslut_fattat", date(2018, 3, 1), beslut_id="b9", lagrum="SoL 4:1",
          beslutstyp="bistand", insats="familjehem", gynnande=True,
          delegat={"id": "u1", "roll": "socialsekreterare"})  # fmt: skip
    c.add("vardplan_upprattad", date(2018, 3, 2))
    c.add("insats_verkstalld", date(2018, 3, 3), beslut_id="b9")
    c.add("beslut_avslutat", date(2019, 3, 3), beslut_id="b9", orsak="hemflytt")
    c.add("arende_avslutat", date(2019, 4, 1), orsak="klar")
    classes = classify_case(c.events)
    assert classes[2:6] == [PLACERING] * 4
    plan = plan_person("1280", [c.events])
    placering = next(x for x in plan.classes if x.klass == PLACERING)
    assert placering.kept_forever and placering.status(date(2100, 1, 1)) == "bevaras"
    assert placering.citations[0].rule == "G-PLACERING"
    # the rest: due 2024-04-01, under the old SoL (before 2025-07-01)
    personakt = next(x for x in plan.classes if x.klass == PERSONAKT)
    assert personakt.due == date(2024, 4, 1)
    assert personakt.citations[0].paragraph == "SoL 2001:453 12:1"


def test_register_data_of_an_open_case_keep_the_whole_personakt() -> None:
    """16:1 första st.: not while register data remain - a second, open case blocks the first."""
    closed = utredd_case()
    open_case = Case(ref="VS-2").anmalan(date(2024, 1, 1), "a9")
    plan = plan_person("1280", [closed.events, open_case.events])
    assert plan.register_until is None
    assert all(c.due is None and c.status(date(2100, 1, 1)) == "vantar" for c in plan.classes)


def test_the_personakt_counts_from_the_last_entry_in_any_of_the_persons_cases() -> None:
    first = utredd_case()
    later = Case(ref="VS-2").anmalan(date(2022, 1, 1), "a9")
    later.add("forhandsbedomning_beslutad", date(2022, 1, 5), anmalan_id="a9",
              beslut="inte_inleda_utredning")  # fmt: skip
    later.add("arende_avslutat", date(2022, 1, 6), orsak="ingen_utredning")
    plan = plan_person("1280", [first.events, later.events])
    assert {c.due for c in plan.classes} == {date(2027, 1, 6)}


def test_research_sample_keeps_every_class() -> None:
    plan = plan_person("1280", [utredd_case(born=date(2010, 3, 15)).events])
    assert plan.research_sample
    assert all(c.kept_forever and c.citations[0].rule == "G-FORSKNING" for c in plan.classes)
    assert plan.due(date(2100, 1, 1)) == []
    goteborg = plan_person("1480", [utredd_case(kommun="1480").events])
    assert all(c.kept_forever for c in goteborg.classes)
