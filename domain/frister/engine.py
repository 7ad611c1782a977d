"""``compute_frister``: one pure function from a case's events to every frist with its legal basis.

It orders the events, builds the ``Ctx`` and runs each chapter module in turn; the chapter
modules decide which events start, extend and meet their rules' frister. Lengths, references
and policies come from the catalogue in ``domain.rules``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import Any

from domain.case_transfer import decided_elsewhere
from domain.events import EVENT_TYPES, SYSTEM_TYPES, CaseEvent
from domain.frister import (
    avvikning,
    klagomal,
    lvu2027,
    lvu_vard,
    overflyttning,
    overklagande,
    placering_krav,
    samtycke,
    sol_anmalan,
    sol_beslut,
    sol_placering,
    sol_utredning,
    uppfoljning,
)
from domain.frister.context import Ctx
from domain.frister.model import Frist
from domain.rules import DEFAULT_POLICY, RULES, KommunPolicy

#: The chapter modules, in the order they have always run. Each owns its rules (every key
#: starts with its rule id), so the order does not change the sorted result.
CHAPTERS: tuple[Callable[[Ctx], None], ...] = (
    sol_anmalan.frister,
    sol_utredning.frister,
    sol_beslut.frister,
    sol_placering.frister,
    lvu_vard.frister,
    lvu2027.frister,
    samtycke.frister,
    uppfoljning.frister,
    klagomal.frister,
    # appeals (FL 2017:900) and transfers between kommuner (SoL 29 kap.)
    overklagande.frister,
    overflyttning.frister,
    # the placed child (issue #15 B): what a placement requires, the 18th birthday, avvikning
    placering_krav.frister,
    avvikning.frister,
)

_RULE_ORDER = {r.id: i for i, r in enumerate(RULES)}

#: Each event type's place in a case's life, for ties of unstored events (``_sort_key``).
_LIFECYCLE: dict[str, int] = {t: i for i, t in enumerate(EVENT_TYPES)}


def _sort_key(ev: CaseEvent) -> tuple[Any, ...]:
    """A total order over events that depends only on their content (input order is irrelevant).

    ``occurred_at``, then the stored ``position``; a tie between events without a position (not
    stored yet: a preview, a test) goes by the event types' order in the case's life
    (``domain.events.EVENT_TYPES``: anmälan before skyddsbedömning, utredning_inledd before
    utredning_avslutad), then type name and key. A tie broken by type name alone put an
    utredning_avslutad stamped at the same instant as its utredning_inledd first, and B1 was
    never met. Stored events always carry a position, so this only orders unstored ones.
    """
    return (
        ev.occurred_at,
        ev.position if ev.position is not None else -1,
        _LIFECYCLE.get(ev.type, len(_LIFECYCLE)),
        ev.type,
        ev.idempotency_key,
    )


def compute_frister(
    events: Iterable[CaseEvent],
    as_of: date | None = None,
    *,
    policy: KommunPolicy | None = None,
    law_on: date | None = None,
    transitions: bool = True,
) -> list[Frist]:
    """Every frist of one case, with status as of ``as_of`` (``None``: as far as events tell).

    ``law_on`` (default: each trigger's own date decides) applies the rules catalogue as it
    stood on that day, so a caller can ask what a case's frister were before a change of law.
    ``transitions=False`` gives the frister barnflow computed before issue #14 made the law
    transitions exact (D2, D4, E9 counted as if their 2022 wording always applied, A3 without
    its "genast" case and only for decisions from 2026-01-15): a workflow replaying a history
    recorded before that must arm the same timers and raise the same alerts
    (``workflows.child_case.LAW_TRANSITIONS_PATCH``). Keys and due dates are what they were;
    only the cited paragraph and ``arithmetic`` may read differently.

    Events dated after ``as_of`` are ignored (time travel) and system events
    (``frist_overskriden``, ``evb_rapporteringsskyldighet_uppstod``) never start or meet a frist.
    The result is sorted by trigger date, catalogue order and key, whatever the input order.
    """
    ordered = sorted(events, key=_sort_key)
    # the EVB duty of a beslut another kommun made stays there (POL-OVERFLYTTNING-EVB); the
    # transfer's marker is a system event, so this is read before system events are dropped
    elsewhere = decided_elsewhere(ordered)
    evs = [e for e in ordered if e.type not in SYSTEM_TYPES]
    if as_of is not None:
        evs = [e for e in evs if e.legal_date <= as_of]
    if not evs:
        return []
    horizon = as_of if as_of is not None else evs[-1].legal_date
    ctx = Ctx(evs, as_of, horizon, policy or DEFAULT_POLICY, evs[0].case_ref, law_on, transitions)
    ctx.decided_elsewhere = elsewhere
    for chapter in CHAPTERS:
        chapter(ctx)
    return sorted(ctx.out, key=lambda f: (f.trigger_date, _RULE_ORDER[f.rule], f.key))
