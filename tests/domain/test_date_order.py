"""P-ORDER (docs/domain.md §7.1): a step of a beslut or an utredning is not dated before the step
it follows. Each row is a case and a last event; the refusal names the earlier date. The same
day is in order, and recorded history (``lagrum=False``: an import, a transfer's copy) is not
refused for it."""

from __future__ import annotations

from datetime import date

import pytest
from frist_builders import ev

from domain.aggregate import ChildCase
from domain.case import CaseState, date_order_violation, fold
from domain.errors import RuleViolation
from domain.events import CaseEvent

TODAY = date(2026, 12, 31)


def _case(*later: CaseEvent) -> list[CaseEvent]:
    """An utredning inledd 2026-03-01, avslutad 2026-03-20; a beslut fattat 2026-04-01 with an
    insats verkställd 2026-04-15."""
    return [
        ev("anmalan_mottagen", "2026-02-20", anmalan_id="a1"),
        ev("utredning_inledd", "2026-03-01", utredning_id="u1", grund="anmalan"),
        ev("utredning_avslutad", "2026-03-20", utredning_id="u1", utfall="insats"),
        ev("beslut_fattat", "2026-04-01", beslut_id="b1", insats="oppenvard", gynnande=True),
        ev("insats_verkstalld", "2026-04-15", beslut_id="b1"),
        *later,
    ]


def _before(events: list[CaseEvent], n: int) -> CaseState:
    return fold(events[:n])


REFUSED = [
    # (name, events before, the last event, the earlier date the refusal names)
    (
        "verkställd before the beslut",
        _case()[:4],
        ev("insats_verkstalld", "2026-03-31", beslut_id="b1"),
        "2026-04-01",
    ),
    (
        "avbruten before verkställd",
        _case(),
        ev("verkstallighet_avbruten", "2026-04-14", beslut_id="b1", skal="x"),
        "2026-04-15",
    ),
    (
        "återupptagen before avbruten",
        _case(ev("verkstallighet_avbruten", "2026-05-10", beslut_id="b1", skal="x")),
        ev("verkstallighet_aterupptagen", "2026-05-09", beslut_id="b1"),
        "2026-05-10",
    ),
    (
        "avslutat before verkställd",
        _case(),
        ev("beslut_avslutat", "2026-04-10", beslut_id="b1", orsak="mal_uppnatt"),
        "2026-04-15",
    ),
    (
        "avslutat before fattat (never verkställd)",
        _case()[:4],
        ev("beslut_avslutat", "2026-03-31", beslut_id="b1", orsak="mal_uppnatt"),
        "2026-04-01",
    ),
    (
        "utredning avslutad before inledd",
        _case()[:2],
        ev("utredning_avslutad", "2026-02-28", utredning_id="u1", utfall="insats"),
        "2026-03-01",
    ),
]


@pytest.mark.parametrize(
    ("name", "events", "last", "earlier"), REFUSED, ids=[r[0] for r in REFUSED]
)
def test_a_step_dated_before_the_one_it_follows_is_refused(
    name: str, events: list[CaseEvent], last: CaseEvent, earlier: str
) -> None:
    state = fold(events)
    with pytest.raises(RuleViolation) as info:
        state.check(last, TODAY)
    assert info.value.rule == "P-ORDER"
    assert earlier in info.value.sv and earlier in info.value.en


@pytest.mark.parametrize(
    ("name", "events", "last", "earlier"), REFUSED, ids=[r[0] for r in REFUSED]
)
def test_the_same_day_is_in_order(
    name: str, events: list[CaseEvent], last: CaseEvent, earlier: str
) -> None:
    same_day = ev(last.type, earlier, **last.data)
    fold(events).check(same_day, TODAY)  # accepted


@pytest.mark.parametrize(
    ("name", "events", "last", "earlier"), REFUSED, ids=[r[0] for r in REFUSED]
)
def test_recorded_history_is_not_refused_for_it(
    name: str, events: list[CaseEvent], last: CaseEvent, earlier: str
) -> None:
    """An import or a transfer's copy (``lagrum=False``) stores what the kommun recorded then;
    the import lists it (``infra.persistence.importer``)."""
    case = ChildCase.open(events[0], TODAY, lagrum=False)
    for e in events[1:]:
        case.append(e, TODAY, lagrum=False)
    case.append(last, TODAY, lagrum=False)
    assert case.state.event_count == len(events) + 1
    with pytest.raises(RuleViolation):
        fold(events).check(last, TODAY, lagrum=True)


def test_an_unknown_beslut_is_left_to_p_ref() -> None:
    """The workflow asks ``date_order_violation`` before the guards: an unknown reference is
    not its to refuse (P-REF names it)."""
    unknown = ev("beslut_avslutat", "2026-03-01", beslut_id="nope", orsak="mal_uppnatt")
    assert date_order_violation(fold(_case()), unknown) is None
    with pytest.raises(RuleViolation) as info:
        fold(_case()).check(unknown, TODAY)
    assert info.value.rule == "P-REF"


def test_a_later_verkstallighet_moves_the_limit_for_avslutat() -> None:
    """avslutat after fattat but before verkställd is refused; after verkställd accepted."""
    state = _before(_case(), 5)
    state.check(ev("beslut_avslutat", "2026-04-15", beslut_id="b1", orsak="mal_uppnatt"), TODAY)
    with pytest.raises(RuleViolation):
        state.check(ev("beslut_avslutat", "2026-04-02", beslut_id="b1", orsak="mal_uppnatt"), TODAY)
