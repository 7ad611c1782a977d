"""The child's case as an eventsourcing aggregate: the digital personakt's one stream.

Guards run in ``open``/``append`` *before* an event is triggered; the ``@event`` bodies only fold
(they also run on replay, when the rules of today must not re-judge yesterday's record).
Every stored event carries the DOMAIN.md §4 envelope, so export is a read, not a translation.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.case import CaseState
from domain.events import CaseEvent, event_from_json
from domain.ids import case_id_for


class ChildCase(Aggregate):
    """One barnärende: a kommun's case about one child, from first anmälan to avslut."""

    @staticmethod
    def create_id(envelope: dict[str, Any]) -> UUID:
        return case_id_for(envelope["kommun"], envelope["case_ref"])

    @event("Opened")
    def __init__(self, envelope: dict[str, Any]) -> None:
        self.state = CaseState()
        self.state.apply(event_from_json(envelope))

    @event("Recorded")
    def _record(self, envelope: dict[str, Any]) -> None:
        self.state.apply(event_from_json(envelope))

    @classmethod
    def open(cls, ev: CaseEvent, today: date) -> ChildCase:
        """Open a case with its first anmälan/ansökan (guards: P-OPEN, P-FUTURE)."""
        CaseState().check(ev, today)
        return cls(envelope=_envelope(ev))

    def append(self, ev: CaseEvent, today: date) -> None:
        """Record one more event after the guards of ``CaseState.check`` allow it."""
        self.state.check(ev, today)
        self._record(envelope=_envelope(ev))


def _envelope(ev: CaseEvent) -> dict[str, Any]:
    out = ev.to_json()
    out["case_id"] = str(case_id_for(ev.kommun, ev.case_ref))
    out.pop("position", None)
    out.pop("recorded_at", None)
    return out
