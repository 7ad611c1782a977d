"""What an operator reads at the top of a case's Web UI page (``domain.operator_view``): the
kommun, the pseudonym's prefix, the enhet and the stage, never identity or content; no enhet for
a case with skyddade personuppgifter."""

from __future__ import annotations

from datetime import timedelta

from domain.case import fold
from domain.events import CaseEvent, parse_event
from domain.operator_view import OperatorText, details_footer, summary
from tests.factories import PNR_GIRL, anmalan, days_ago, line

PSEUDONYM = "abcdefghijklmnopqrstuvwx"


def _case(*, protected: bool) -> list[CaseEvent]:
    at = days_ago(3)
    opening = anmalan(at, pnr=PNR_GIRL)
    opening["data"]["enhet"] = "Nordväst"
    events = [parse_event(opening)]
    if protected:
        events.append(
            parse_event(
                line(
                    "skydd_markerat",
                    {"skydd": "sekretessmarkering"},
                    at=at + timedelta(minutes=5),
                    key="k-skydd",
                )
            )
        )
    return events


def test_the_summary_names_kommun_pseudonym_prefix_enhet_and_stage() -> None:
    state = fold(_case(protected=False))
    text = summary("1280", PSEUDONYM, state)
    assert isinstance(text, OperatorText)
    assert text == "barnärende 1280-abcdefgh · enhet Nordväst · steg vid start: forhandsbedomning"
    assert PNR_GIRL not in text and PNR_GIRL[2:8] not in text
    assert details_footer(state) == "steg: forhandsbedomning · enhet Nordväst"


def test_a_protected_case_shows_no_enhet() -> None:
    state = fold(_case(protected=True))
    assert state.protected
    text = summary("1280", PSEUDONYM, state)
    assert "Nordväst" not in text and "enhet" not in text
    assert text.startswith("barnärende 1280-abcdefgh · steg vid start: ")
    assert "Nordväst" not in details_footer(state)
