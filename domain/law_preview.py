"""What a change of law does to one case's frister: each frist before and after a switch date.

A kommun asks in December what 2027-01-01 (LVU 1990:52 replaced by lag 2026:1600) changes for
its open compulsory-care cases. The answer is two runs of ``domain.frister.compute_frister`` over
the same events: once with the law as it stood the day before the switch (no later catalogue
change in force), once with the law as it stands on the switch day, paired by frist key and
compared. No due date is computed here; this module only pairs and names the differences, so the
CLI (``barnflow rules preview``) and the API (``GET …/rules-preview``) cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from domain.calendar import add_days
from domain.events import CaseEvent
from domain.frister import MET, MISSED, Frist, compute_frister
from domain.rules import LAW_SWITCHES, P_LVU2027_TRIGGER, KommunPolicy, LawSwitch, rule

#: Change codes, in the order they are reported.
ADDED = "frist_added"
ENDED = "frist_ended"
DUE_MOVED = "due_moved"
PARAGRAPH_CHANGED = "paragraph_changed"
POLICY_APPLIED = "policy_applied"
UNCHANGED = "unchanged"

#: Event types of compulsory care that are not named ``lvu_*``: the insatser and särskilda
#: villkor of lag (2026:1637) om insatser inom socialtjänsten när samtycke saknas (from
#: 2027-01-02), so a preview ``--on 2027-01-02`` or later lists those cases too.
_COMPULSORY_TYPES: frozenset[str] = frozenset(
    {
        "insats_utan_samtycke_beslutad",
        "sarskild_genomforandeplan_upprattad",
        "insats_utan_samtycke_overvagd",
        "insats_utan_samtycke_upphort",
    }
)


def is_compulsory_care(events: Iterable[CaseEvent]) -> bool:
    """Whether the case's stream has any compulsory-care (LVU or successor) event."""
    return any(e.type.startswith("lvu_") or e.type in _COMPULSORY_TYPES for e in events)


@dataclass(frozen=True)
class FristChange:
    """One frist as it is before and after the switch; ``None`` on the side it does not exist.

    ``changes`` holds the codes above; ``policies`` the named transitional policies that decide
    a frist running across the switch, then the engine's notes that only the new side has.
    """

    key: str
    rule: str
    name: str
    subject: str
    before: Frist | None
    after: Frist | None
    changes: tuple[str, ...]
    policies: tuple[str, ...]


def frister_on_each_side(
    events: Sequence[CaseEvent], switch: date, *, policy: KommunPolicy | None = None
) -> tuple[list[Frist], list[Frist]]:
    """The case's frister under the law of the day before ``switch`` and of ``switch`` itself.

    Status is as of the switch day, or of the case's newest event if that is later, so that
    repeating frister (quarters, anniversaries) are generated up to the switch.
    """
    as_of = max([switch, *(e.legal_date for e in events)])
    before = compute_frister(events, as_of, policy=policy, law_on=add_days(switch, -1))
    after = compute_frister(events, as_of, policy=policy, law_on=switch)
    return before, after


def switch_on(day: date) -> LawSwitch | None:
    """The catalogued change of law on ``day`` (SoL 2025-07-01, LVU 2027-01-01, …), if any."""
    return next((sw for sw in LAW_SWITCHES if sw.on == day), None)


def straddle_policies(f: Frist, switch: date) -> tuple[str, ...]:
    """The named transitional policies that decide a frist running across ``switch``.

    A frist straddles when it started before the switch and falls due on or after it, and its
    rule changes law that day; the policies are the switch's general one (POL-LVU2027-TRIGGER:
    the trigger's day decides) and those the rule itself names.
    """
    sw = switch_on(switch)
    if sw is None or not (f.trigger_date < switch <= f.due):
        return ()
    r = rule(f.rule)
    if not any(v.since == switch for v in r.versions()):
        return ()
    names = [p.name for p in (P_LVU2027_TRIGGER, *r.uncertain) if p.name in sw.policies]
    return tuple(dict.fromkeys(names))


def _settled_before(f: Frist | None, switch: date) -> bool:
    """A frist met or missed before the switch is history: the switch cannot touch it."""
    if f is None:
        return True
    return f.status in (MET, MISSED) and f.fulfilled_date is not None and f.fulfilled_date < switch


def compare(before: Sequence[Frist], after: Sequence[Frist], switch: date) -> list[FristChange]:
    """Pair frister by key and name what differs; frister settled before ``switch`` on both
    sides and unchanged are left out (nothing changes for them)."""
    old = {f.key: f for f in before}
    new = {f.key: f for f in after}
    keys = list(old) + [k for k in new if k not in old]
    out: list[FristChange] = []
    for key in keys:
        b, a = old.get(key), new.get(key)
        changes: list[str] = []
        if b is None:
            changes.append(ADDED)
        elif a is None:
            changes.append(ENDED)
        else:
            if (a.due, a.shifted_due) != (b.due, b.shifted_due):
                changes.append(DUE_MOVED)
            if (a.law, a.paragraph) != (b.law, b.paragraph):
                changes.append(PARAGRAPH_CHANGED)
        notes = tuple(n for n in (a.notes if a else ()) if b is None or n not in b.notes)
        policies = (straddle_policies(a, switch) if a is not None else ()) + notes
        if policies and b is not None and a is not None:
            changes.append(POLICY_APPLIED)
        if not changes:
            if _settled_before(b, switch) and _settled_before(a, switch):
                continue
            changes.append(UNCHANGED)
        ref = a if a is not None else b
        assert ref is not None  # one side always exists
        out.append(
            FristChange(
                key=key,
                rule=ref.rule,
                name=ref.name,
                subject=ref.subject,
                before=b,
                after=a,
                changes=tuple(changes),
                policies=policies,
            )
        )
    return out


def preview_case(
    events: Sequence[CaseEvent], switch: date, *, policy: KommunPolicy | None = None
) -> list[FristChange]:
    """Every frist of one case that the switch on ``switch`` changes or leaves running."""
    before, after = frister_on_each_side(events, switch, policy=policy)
    return compare(before, after, switch)
