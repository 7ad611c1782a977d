"""One case's decisions → rows of the ``delegationsbeslut`` view (pure; no database).

A decision recorded since judgements are kept (``domain.delegation_record``) is shown as it was
judged then, with the configuration version and ordning that judged it: a later version never
re-judges it. A decision without a judgement (its kommun has no delegationsordning, or it was
stored before judgements were kept) is listed as before when it is a ``beslut_fattat`` or
``lvu_omhandertagande_beslutat`` naming its delegat (``utfall`` NULL). In a transferred ärende
the decisions before the transfer (``domain.case_transfer.MARKER``) are the sending kommun's: they
are listed there, not to the receiving kommun's nämnd.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.case_transfer import MARKER
from domain.decisions import decision_of
from domain.delegation import DEFAULT_LADDER
from domain.events import CaseEvent

Row = tuple[Any, ...]
#: Decisions stored before judgements were recorded that the list showed: those naming a delegat.
_LEGACY_TYPES = frozenset({"beslut_fattat", "lvu_omhandertagande_beslutat"})


def _legacy(ev: CaseEvent) -> dict[str, Any] | None:
    """What an unjudged decision says about delegation (only one that names its delegat)."""
    delegat = ev.data.get("delegat")
    if ev.type not in _LEGACY_TYPES or not isinstance(delegat, dict):
        return None
    position = DEFAULT_LADDER.position(str(delegat["roll"]))
    decision = decision_of(ev)
    return {
        "beslutskod": (
            decision.code if ev.type == "beslut_fattat" and decision else "lvu_omhandertagande"
        ),
        "lagrum": ev.data.get("lagrum", "LVU 6 §"),
        "delegat": delegat,
        "stege": None if position is None else position.stege,
        "rang": None if position is None else position.rang,
        "utfall": None,
        "ordforandebeslut": ev.data.get("ordforandebeslut") is True
        or DEFAULT_LADDER.is_ordforande(str(delegat["roll"])),
        "anmalan_till_namnden": True,
    }


def _subject(ev: CaseEvent) -> str | None:
    decision = decision_of(ev)
    if decision is not None and decision.subject is not None:
        return decision.subject
    bid = ev.data.get("beslut_id")
    return None if bid is None else str(bid)


def delegation_rows(head: Row, events: list[CaseEvent]) -> list[Row]:
    """Rows of ``projections.tables.DELEGATIONSBESLUT`` for one case (events in stream order)."""
    rows: list[Row] = []
    for ev in events:
        if ev.type == MARKER:
            rows.clear()  # the sending kommun's decisions: its list, not this kommun's
            continue
        judged = ev.delegation or _legacy(ev)
        if judged is None:
            continue
        ordning = judged.get("ordning") or {}
        giltig = ordning.get("giltig_fran")
        delegat = judged.get("delegat") or {}
        rows.append(
            (
                *head,
                ev.position or 0,
                ev.legal_date,
                ev.type,
                str(judged.get("beslutskod")),
                judged.get("lagrum"),
                ev.data.get("insats"),
                ev.data.get("gynnande"),
                _subject(ev),
                delegat.get("id"),
                delegat.get("roll"),
                judged.get("stege"),
                judged.get("rang"),
                judged.get("utfall"),
                judged.get("punkt"),
                judged.get("kravs"),
                ordning.get("version"),
                None if giltig is None else date.fromisoformat(str(giltig)),
                judged.get("kommun_config"),
                judged.get("skal"),
                bool(judged.get("ordforandebeslut")),
                bool(judged.get("anmalan_till_namnden")),
            )
        )
    return rows
