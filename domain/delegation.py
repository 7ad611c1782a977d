"""Delegationsordning: which role may take which decision, per kommun (docs/domain.md §6).

A socialnämnd delegates its decision-making to officials and to its own utskott (KL 6:37–40). A
decision taken by someone without delegation is taken without authority, so barnflow rejects a
``beslut_fattat`` whose delegat is below the level the kommun's delegationsordning requires.

The delegationsordning is configuration, not code: every kommun writes its own and changes it by
nämnd decision, so it is a table of the kommun's configuration file (format:
``docs/delegationsordning.md``, example: ``config/kommun.sample.toml``), validated in
``infra.config.kommun`` with errors that name the file and the key path.

Comparison policy (the one place where two ladders meet):

* Officials, lowest → highest: socialsekreterare < gruppledare < sektionschef < verksamhetschef
  < socialchef. Political bodies: utskott < nämnd.
* Every political body ranks above every official. Delegation flows from the nämnd: whatever it
  has delegated to an official it (or the utskott, its own delegate) can still decide. So a rule
  requiring ``sektionschef`` is met by verksamhetschef, socialchef, utskott and nämnd, while a
  rule requiring ``utskott`` is met by no official at all (SoL 30:6–7 restrict some decisions,
  e.g. övervägande and LVU applications, to the nämnd or an utskott).
* ``ordforande`` is on neither ladder. The ordförande's kompletterande beslutanderätt (LVU 6 §
  second stycket, KL 6:39) only covers urgent decisions that a rule explicitly marks with
  ``ordforande = true``; any other decision by the ordförande is rejected. Such a decision is
  flagged so it lands on the next meeting's list (docs/domain.md §5.7).

This module is pure (no I/O) so that workflows can evaluate an ordning deterministically.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from domain.errors import RuleViolation

__all__ = [
    "BODIES",
    "LADDER",
    "OFFICIALS",
    "ORDFORANDE",
    "ROLES",
    "URGENT_LAWS",
    "AmountThreshold",
    "DelegationCheck",
    "DelegationRule",
    "Delegationsordning",
    "delegationsordning_from_document",
    "may_be_urgent",
    "normalize_lagrum",
    "rank",
    "role_satisfies",
]

OFFICIALS: Final = (
    "socialsekreterare",
    "gruppledare",
    "sektionschef",
    "verksamhetschef",
    "socialchef",
)
BODIES: Final = ("utskott", "namnd")
ORDFORANDE: Final = "ordforande"
ROLES: Final = (*OFFICIALS, *BODIES, ORDFORANDE)
#: One total order over both ladders, lowest first: every body above every official (see the
#: module docstring). ``ordforande`` is not on it.
LADDER: Final = (*OFFICIALS, *BODIES)
_RANK: Final[dict[str, int]] = {role: i for i, role in enumerate(LADDER)}
_RULE_ID: Final = "DELEG"


def role_satisfies(delegat_roll: str, required: str) -> bool:
    """Whether ``delegat_roll`` is at or above ``required`` on the combined ladder.

    ``ordforande`` never satisfies a ladder level by itself; it is handled per rule.
    """
    if delegat_roll not in _RANK or required not in _RANK:
        return False
    return _RANK[delegat_roll] >= _RANK[required]


def rank(role: str) -> int | None:
    """The role's place on the combined ladder (higher decides more), ``None`` off the ladder."""
    return _RANK.get(role)


#: Acts whose decisions the ordförande may take when the nämnd cannot wait (LVU 6, 11, 27, 31 d
#: §§; from 2027-01-01 lag 2026:1600 5 kap. 3 §, 6 kap. 2 §, 12 kap. 7 §, 13 kap. 7 §).
URGENT_LAWS: Final = ("lvu", "lag 2026:1600", "2026:1600")


def normalize_lagrum(lagrum: str) -> str:
    """Match key for a lagrum: ``"LVU 6§"``, ``"lvu  6 §"`` and ``"LVU 6 §"`` are the same."""
    text = re.sub(r"\s*§", " §", lagrum)
    return " ".join(text.split()).casefold()


def may_be_urgent(lagrum: str) -> bool:
    """Whether the ordförande's kompletterande beslutanderätt can exist under ``lagrum``: only
    LVU decisions (LVU 1990:52, from 2027-01-01 lag 2026:1600)."""
    return normalize_lagrum(lagrum).startswith(URGENT_LAWS)


@dataclass(frozen=True)
class AmountThreshold:
    """Above ``over_kr_per_dygn`` (exclusive) the decision needs at least ``lagsta_delegat``."""

    over_kr_per_dygn: float
    lagsta_delegat: str


@dataclass(frozen=True)
class DelegationRule:
    """One point of the delegationsordning: who may decide ``beslutstyp`` under ``lagrum``.

    ``lagsta_delegat`` applies up to the first threshold; each ``beloppsgranser`` step raises the
    level for amounts strictly above it ("upp till 4 000 kr/dygn" includes 4 000).
    """

    id: str
    beslutstyp: str
    lagrum: str
    lagsta_delegat: str
    beloppsgranser: tuple[AmountThreshold, ...] = ()
    ordforande: bool = False
    anmalan_till_namnden: bool = True
    beskrivning: str = ""

    @property
    def requires_anmalan_till_namnden(self) -> bool:
        """Whether decisions under this rule go on the list of delegationsbeslut (KL 7:8).

        The nämnd's own decisions are not delegated and need no anmälan; ``DelegationCheck``
        applies that per decision.
        """
        return self.anmalan_till_namnden

    def required_level(self, belopp_per_dygn: float | None = None) -> str | None:
        """The lowest delegat for this amount, or ``None`` if the amount is needed but missing."""
        if not self.beloppsgranser:
            return self.lagsta_delegat
        if belopp_per_dygn is None:
            return None
        level = self.lagsta_delegat
        for step in self.beloppsgranser:
            if belopp_per_dygn > step.over_kr_per_dygn:
                level = step.lagsta_delegat
        return level


@dataclass(frozen=True)
class DelegationCheck:
    """The outcome of an accepted decision: which rule, which level it needed, what follows.

    ``ordforande_bradskande`` marks an urgent ordförandebeslut that must be reported at the next
    meeting; ``requires_anmalan_till_namnden`` puts the decision on the delegationsbeslut list.
    """

    rule: DelegationRule
    delegat_roll: str
    required: str
    ordforande_bradskande: bool
    requires_anmalan_till_namnden: bool


@dataclass(frozen=True)
class Delegationsordning:
    """A kommun's validated delegationsordning."""

    kommun: str
    regler: tuple[DelegationRule, ...]
    source: str
    namn: str = ""
    version: str = ""
    giltig_fran: date | None = None

    def find(self, beslutstyp: str, lagrum: str) -> DelegationRule | None:
        """The rule for this decision type and lagrum, if the ordning has one."""
        key = (beslutstyp.strip(), normalize_lagrum(lagrum))
        for rule in self.regler:
            if (rule.beslutstyp, normalize_lagrum(rule.lagrum)) == key:
                return rule
        return None

    def check(
        self,
        beslutstyp: str,
        lagrum: str,
        delegat_roll: str,
        belopp_per_dygn: float | None = None,
    ) -> DelegationRule:
        """Return the rule that authorises the decision, or raise ``RuleViolation("DELEG")``."""
        return self.assess(beslutstyp, lagrum, delegat_roll, belopp_per_dygn).rule

    def assess(
        self,
        beslutstyp: str,
        lagrum: str,
        delegat_roll: str,
        belopp_per_dygn: float | None = None,
    ) -> DelegationCheck:
        """Like ``check`` but also says whether the decision is an urgent ordförandebeslut and
        whether it must be reported to the nämnd."""
        if belopp_per_dygn is not None and (math.isnan(belopp_per_dygn) or belopp_per_dygn < 0):
            raise ValueError(
                f"belopp_per_dygn must be a non-negative number, got {belopp_per_dygn}"
            )
        rule = self.find(beslutstyp, lagrum)
        if rule is None:
            raise RuleViolation(
                _RULE_ID,
                sv=(
                    f"Beslutstypen '{beslutstyp}' enligt {lagrum} finns inte i "
                    f"delegationsordningen för kommun {self.kommun}."
                ),
                en=(
                    f"decision type '{beslutstyp}' under {lagrum} is not in the "
                    f"delegationsordning of kommun {self.kommun}"
                ),
            )
        where_sv = f"punkt {rule.id} ({rule.lagrum})"
        where_en = f"delegationsordning rule {rule.id} ({rule.lagrum})"
        if delegat_roll not in ROLES:
            raise RuleViolation(
                _RULE_ID,
                sv=f"Rollen '{delegat_roll}' finns inte i delegationsordningen ({where_sv}).",
                en=f"role '{delegat_roll}' is not a delegat role ({where_en})",
            )
        required = rule.required_level(belopp_per_dygn)
        if required is None:
            raise RuleViolation(
                _RULE_ID,
                sv=f"Belopp per dygn krävs för att avgöra delegat enligt {where_sv}.",
                en=f"belopp_per_dygn is required to determine the delegat under {where_en}",
            )
        amount_en = amount_sv = ""
        if rule.beloppsgranser and belopp_per_dygn is not None:
            amount_sv = f" vid {belopp_per_dygn:g} kr/dygn"
            amount_en = f" at {belopp_per_dygn:g} kr/dygn"
        if delegat_roll == ORDFORANDE:
            if not rule.ordforande:
                raise RuleViolation(
                    _RULE_ID,
                    sv=(
                        f"Ordföranden har ingen kompletterande beslutanderätt enligt {where_sv}; "
                        f"beslutet kräver lägst {required}{amount_sv}."
                    ),
                    en=(
                        f"ordforande has no urgent decision right under {where_en}; "
                        f"requires at least {required}{amount_en}"
                    ),
                )
            return DelegationCheck(rule, delegat_roll, required, True, True)
        if not role_satisfies(delegat_roll, required):
            raise RuleViolation(
                _RULE_ID,
                sv=(
                    f"{delegat_roll} saknar delegation för '{rule.beslutstyp}' enligt {where_sv}; "
                    f"beslutet kräver lägst {required}{amount_sv}."
                ),
                en=(
                    f"{delegat_roll} is not delegated '{rule.beslutstyp}' under {where_en}; "
                    f"requires at least {required}{amount_en}"
                ),
            )
        anmalan = rule.anmalan_till_namnden and delegat_roll != "namnd"
        return DelegationCheck(rule, delegat_roll, required, False, anmalan)


# --------------------------------------------------------------------------------------------
# Building from a validated document


def delegationsordning_from_document(
    document: Mapping[str, Any], source: str, *, kommun: str | None = None
) -> Delegationsordning:
    """A ``Delegationsordning`` from a validated document (the TOML table's shape).

    ``infra.config.kommun`` validates every kommun file with pydantic (unknown keys, types, the
    ladder, thresholds, the ordförande right, duplicates; errors naming the file and key path)
    before its document is stored and referenced; this pure builder only assembles the object
    the update validator judges with. ``kommun`` defaults to the document's own ``kommun`` (the
    inline form commands carried before configurations were referenced by version).
    """
    raw_from = document.get("giltig_fran")
    giltig_fran = date.fromisoformat(raw_from) if isinstance(raw_from, str) else raw_from
    return Delegationsordning(
        kommun=str(kommun if kommun is not None else document["kommun"]),
        regler=tuple(_rule(r) for r in document["regler"]),
        source=source,
        namn=str(document.get("namn") or ""),
        version=str(document.get("version") or ""),
        giltig_fran=giltig_fran if isinstance(giltig_fran, date) else None,
    )


def _rule(raw: Mapping[str, Any]) -> DelegationRule:
    return DelegationRule(
        id=str(raw["id"]).strip(),
        beslutstyp=str(raw["beslutstyp"]).strip(),
        lagrum=str(raw["lagrum"]).strip(),
        lagsta_delegat=str(raw["lagsta_delegat"]),
        beloppsgranser=tuple(
            AmountThreshold(float(t["over_kr_per_dygn"]), str(t["lagsta_delegat"]))
            for t in raw.get("beloppsgranser") or ()
        ),
        ordforande=bool(raw.get("ordforande", False)),
        anmalan_till_namnden=bool(raw.get("anmalan_till_namnden", True)),
        beskrivning=str(raw.get("beskrivning") or "").strip(),
    )
