"""P-LAGRUM: a decision's lagrum is judged against the law in force on its legal date
(``domain.lagrum``, docs/law.md §4.1), around each switch: the day before, the day, the day
after. The guard path is ``CaseState.check``, shared by the aggregate and the workflow's
validator; recorded history (``lagrum=False``) is not refused."""

from __future__ import annotations

from datetime import date

import pytest
from frist_builders import ev

from domain.case import CaseState, fold
from domain.errors import RuleViolation
from domain.events import CaseEvent
from domain.lagrum import check, insats_lagrum, is_omedelbart_omhandertagande, parse

D = date.fromisoformat
OLD_INSATS = ("SoL 2001:453 4 kap. 1 §",)
NEW_INSATS = ("SoL 2025:400 11 kap. 1 §", "SoL 2025:400 12 kap. 1 §")

# (lagrum, decision day, about an insats, the paragraph(s) in force named, or None: accepted)
ROWS: list[tuple[str, str, bool, tuple[str, ...] | None]] = [
    # old "SoL 4:1" (bistånd) until 2025-06-30, repealed from 2025-07-01
    ("SoL 4:1", "2025-06-30", True, None),
    ("SoL 4:1", "2025-07-01", True, NEW_INSATS),
    ("SoL 4:1", "2025-07-02", True, NEW_INSATS),
    ("SoL 4 kap. 1 §", "2026-03-10", False, NEW_INSATS),
    ("SoL (2001:453) 4 kap. 1 §", "2026-03-10", True, NEW_INSATS),
    # new-style "SoL 11:1" for an insats: not before 2025-07-01
    ("SoL 11:1", "2025-06-30", True, ("SoL 2001:453 4 kap. 1 §", "SoL 2001:453 4 kap. 2 §")),
    ("SoL 11:1", "2025-07-01", True, None),
    ("SoL 11 kap. 1 §", "2025-07-02", True, None),
    # … but old 11 kap. 1 § (inleda utredning) is a decision paragraph of its own
    ("SoL 11:1", "2025-06-30", False, None),
    ("SoL 12:1", "2025-06-30", True, OLD_INSATS),
    # a chapter the old act never had; the explicit act not yet in force
    ("SoL 22:13", "2025-06-30", False, ("SoL 2001:453 6 kap. 8 §",)),
    ("SoL 22:13", "2025-07-01", False, None),
    ("SoL 2025:400 22 kap. 14 §", "2025-06-30", False, ("SoL 2001:453 6 kap. 8 b §",)),
    ("SoL 6:8 b", "2025-06-30", False, None),
    ("SoL 6 kap. 8 b §", "2025-07-01", False, ("SoL 2025:400 22 kap. 14 §",)),
    ("SoL 14:2", "2025-06-30", False, ("SoL 2001:453 11 kap. 1 §",)),
    ("SoL 14:2", "2025-07-01", False, None),
    # LVU until 2026-12-31, lag 2026:1600 from 2027-01-01 (LVU 22 § kept by ÖB 5)
    ("LVU 6 §", "2026-12-31", False, None),
    ("LVU 6 §", "2027-01-01", False, ("lag 2026:1600 5 kap. 1 §",)),
    ("LVU 6§ andra st.", "2027-01-02", False, ("lag 2026:1600 5 kap. 1 §",)),
    ("LVU 13 §", "2027-01-01", False, ("lag 2026:1600 8 kap. 2 §", "lag 2026:1600 8 kap. 3 §")),
    ("LVU 22 §", "2027-01-01", False, None),
    ("lag 2026:1600 5 kap. 1 §", "2026-12-31", False, ("LVU 1990:52 6 §",)),
    ("lag 2026:1600 5 kap. 1 §", "2027-01-01", False, None),
    ("2026:1600 8 kap. 2-3 §§", "2027-01-02", False, None),
    ("lag 2026:1600 30 kap. 1 §", "2027-01-02", False, ("lag 2026:1600",)),
    ("LVU 99 §", "2026-01-01", False, ("LVU 1990:52",)),
    # not checked: free text, other acts, an act without a paragraph
    ("SoL", "2026-01-01", True, None),
    ("FB 6:8", "2026-01-01", False, None),
    ("kommunens riktlinje", "2026-01-01", False, None),
    ("SoL 1980:620 6 §", "2026-01-01", False, None),
]


@pytest.mark.parametrize(("lagrum", "day", "insats", "in_force"), ROWS)
def test_lagrum_on_each_side_of_the_switch(
    lagrum: str, day: str, insats: bool, in_force: tuple[str, ...] | None
) -> None:
    problem = check(lagrum, D(day), insats=insats)
    if in_force is None:
        assert problem is None, problem
        return
    assert problem is not None
    assert problem.in_force == in_force
    refusal = problem.violation()
    assert refusal.rule == "P-LAGRUM"
    assert all(p in refusal.sv and p in refusal.en for p in in_force)
    assert lagrum in refusal.sv and day in refusal.en


@pytest.mark.parametrize(
    ("text", "reading"),
    [
        ("SoL 11:1", ((11, "1"),)),
        ("SoL  11 kap.  1 §", ((11, "1"),)),
        ("SoL 6:8 b", ((6, "8b"),)),
        ("SoL 6:8 andra st.", ((6, "8"),)),
        ("SoL 11 kap. 1 §, 22 kap. 2 §", ((11, "1"), (22, "2"))),
        ("socialtjänstlagen (2025:400) 9 kap. 13 § andra st.", ((9, "13"),)),
    ],
)
def test_canonical_forms_are_read_alike(text: str, reading: tuple[tuple[int, str], ...]) -> None:
    cit = parse(text)
    assert cit is not None and cit.chaptered == reading


def test_omedelbart_omhandertagande_in_both_acts() -> None:
    for text in ("LVU 6 §", "LVU 6§", "lag 2026:1600 5 kap. 1 §"):
        assert is_omedelbart_omhandertagande(text), text
    for text in ("LVU 4 §", "SoL 6:6", "lag 2026:1600 5 kap. 8 §", "LVU 61 §"):
        assert not is_omedelbart_omhandertagande(text), text


def test_insats_lagrum_follows_the_switch() -> None:
    assert insats_lagrum(D("2025-06-30")) == "SoL 4 kap. 1 §"
    assert insats_lagrum(D("2025-07-01")) == "SoL 11 kap. 1 §"
    for day in ("2025-06-30", "2025-07-01"):
        assert check(insats_lagrum(D(day)), D(day), insats=True) is None


def _case_until_beslut(day: str) -> list[CaseEvent]:
    return [
        ev("anmalan_mottagen", "2025-06-01", anmalan_id="a1"),
        ev("utredning_inledd", "2025-06-02", utredning_id="u1", grund="anmalan"),
        ev("utredning_avslutad", day, utredning_id="u1", utfall="insats"),
    ]


def test_the_guard_path_refuses_and_history_is_not_refused() -> None:
    """CaseState.check (the aggregate's and the workflow validator's guard) refuses a 2026
    beslut citing old SoL 4:1, naming 11 kap. 1 §; ``lagrum=False`` (import, transfer, a
    replayed command from before the guard) records it."""
    state = fold(_case_until_beslut("2026-03-10"))
    wrong = ev("beslut_fattat", "2026-03-10", beslut_id="b1", insats="oppenvard", gynnande=True,
               lagrum="SoL 4:1")  # fmt: skip
    with pytest.raises(RuleViolation) as info:
        state.check(wrong, D("2026-03-11"))
    assert info.value.rule == "P-LAGRUM"
    assert "SoL 2025:400 11 kap. 1 §" in info.value.sv
    state.check(wrong, D("2026-03-11"), lagrum=False)
    right = ev("beslut_fattat", "2026-03-10", beslut_id="b1", insats="oppenvard", gynnande=True,
               lagrum="SoL 11 kap. 1 §")  # fmt: skip
    state.check(right, D("2026-03-11"))


def test_structural_guards_come_first() -> None:
    """A beslut that breaks a process rule is refused for that rule; P-LAGRUM is the last
    check, so its refusal always concerns an otherwise acceptable decision."""
    state = CaseState()
    state.apply(ev("anmalan_mottagen", "2026-03-01", anmalan_id="a1"))
    wrong = ev("beslut_fattat", "2026-03-10", beslut_id="b1", insats="oppenvard", gynnande=True,
               lagrum="SoL 4:1")  # fmt: skip
    with pytest.raises(RuleViolation) as info:
        state.check(wrong, D("2026-03-11"))
    assert info.value.rule == "P-NO-UTREDNING"


def test_lvu6_after_2027_is_omedelbart_omhandertagande_without_utredning() -> None:
    """P-NO-UTREDNING's exception reads the lagrum of the act in force: from 2027-01-01 an
    omedelbart omhändertagande cites lag 2026:1600 5 kap. 1 §, and LVU 6 § is refused."""
    state = CaseState()
    state.apply(ev("anmalan_mottagen", "2027-01-04", anmalan_id="a1"))
    urgent = {"beslut_id": "l1", "gynnande": False, "beslutstyp": "omedelbart_omhandertagande"}
    new = ev("beslut_fattat", "2027-01-05", lagrum="lag 2026:1600 5 kap. 1 §", **urgent)
    state.check(new, D("2027-01-05"))
    old = ev("beslut_fattat", "2027-01-05", lagrum="LVU 6 §", **urgent)
    with pytest.raises(RuleViolation) as info:
        state.check(old, D("2027-01-05"))
    assert info.value.rule == "P-LAGRUM" and "lag 2026:1600 5 kap. 1 §" in info.value.en
