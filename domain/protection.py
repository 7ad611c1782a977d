"""Skyddade personuppgifter: which persons of a case are protected, and who may read such a case
(issue 16 item 5; docs/security.md "Protected identities", docs/law.md §12).

Skatteverket marks a person's identity (sekretessmarkering, OSL 22:1 and 26:1), moves the
folkbokföring to a secret address (skyddad folkbokföring, folkbokföringslagen 16 §) or lets the
person stay registered at the old address (kvarskrivning, folkbokföringslagen 16 §). The nämnd
records that it knows of such a marking (``skydd_markerat``) and that it ended (``skydd_upphort``):
an administrative registration of Skatteverket's measure, not a decision of the nämnd, so neither
is judged against the delegationsordning (POL-SKYDD-REGISTRERING).

While any person of the case (the child, ``barnet``, or another person by role label, e.g.
``vardnadshavare_1``) is protected, the case's content reaches only the roles the kommun names in
its configuration (``[skydd] roller``; ``DEFAULT_ROLES`` without it), never an operator and never
a webhook without an explicit permission (POL-SKYDD-ATKOMST). Pure: the API, the CLI, the reports,
the webhook dispatch and the codec server all ask this module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final, NoReturn

from domain.errors import RuleViolation
from domain.events import SKYDD_SLAG, CaseEvent

__all__ = ["SKYDD_SLAG", "ProtectionState", "is_protected", "may_read", "protection_of"]

#: The person label of the child itself (the default of ``person``).
BARNET: Final = "barnet"
MARKED: Final = "skydd_markerat"
ENDED: Final = "skydd_upphort"
SKYDD_TYPES: Final = frozenset({MARKED, ENDED})
#: The roles that read a protected case when the kommun's configuration names none: a dedicated
#: handläggare role (issued to the few who handle protected cases) and nobody else.
DEFAULT_ROLES: Final = ("handlaggare_skydd",)
#: Roles that never read a protected case's content, whatever the kommun names.
NEVER: Final = frozenset({"operator"})
#: What a report or export shows in place of a protected case's identifying columns.
MARKER: Final = "⟨skyddad⟩"

#: The guard's rule id and what it enforces (merged into ``domain.case.PROCESS_RULES``).
SKYDD_PROCESS_RULES: dict[str, str] = {
    "P-SKYDD": (
        "A protection (sekretessmarkering, skyddad folkbokföring, kvarskrivning) is recorded as "
        "ended only for a person for whom it is recorded and not yet ended."
    ),
}


@dataclass
class ProtectionState:
    """Person label -> the measures in force for that person, folded from the case's events."""

    active: dict[str, set[str]] = field(default_factory=dict)

    @property
    def protected(self) -> bool:
        """Whether any person of the case is protected now."""
        return any(self.active.values())

    def persons(self) -> list[str]:
        """The protected persons' labels, sorted (labels, never names)."""
        return sorted(p for p, kinds in self.active.items() if kinds)

    def check(self, ev: CaseEvent) -> None:
        """P-SKYDD: an ending names a measure in force for that person."""
        if ev.type != ENDED:
            return
        person, slag = person_of(ev), str(ev.data["skydd"])
        if slag not in self.active.get(person, set()):
            _deny(
                "P-SKYDD",
                f"Inget {slag} är registrerat för {person}.",
                f"no {slag} is recorded for {person}",
            )

    def apply(self, ev: CaseEvent) -> None:
        if ev.type == MARKED:
            self.active.setdefault(person_of(ev), set()).add(str(ev.data["skydd"]))
        elif ev.type == ENDED:
            self.active.get(person_of(ev), set()).discard(str(ev.data["skydd"]))


def person_of(ev: CaseEvent) -> str:
    """Whose protection ``ev`` records (``barnet`` unless it names another person's label)."""
    return str(ev.data.get("person") or BARNET)


def protection_of(events: Iterable[CaseEvent]) -> ProtectionState:
    """The protection in force after ``events`` (in order)."""
    state = ProtectionState()
    for ev in events:
        state.apply(ev)
    return state


def is_protected(events: Iterable[CaseEvent]) -> bool:
    """Whether the case of ``events`` is protected after its last event."""
    return protection_of(events).protected


def may_read(role: str, allowed: Iterable[str]) -> bool:
    """Whether ``role`` may read a protected case's content, given the kommun's named roles."""
    return role not in NEVER and role in set(allowed)


def _deny(rule: str, sv: str, en: str) -> NoReturn:
    raise RuleViolation(rule, sv, en)
