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
* A kommun names its own titles ("1:e socialsekreterare", "enhetschef", "IFO-chef" …): a
  ``RoleLadder`` places each on the officials' or the political ladder (or among the ordförande
  titles); the comparison above is unchanged. Without titles of its own a kommun uses the codes
  above (``DEFAULT_LADDER``).
* A decision the ordning does not list is not delegated: only the nämnd itself (the top of the
  political ladder) may take it (KL 6:37: delegation is the nämnd's permission, never its loss).

This module is pure (no I/O) so that workflows can evaluate an ordning deterministically.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any, Final

from domain.errors import RuleViolation
from domain.rules import LVU_NEW_FROM

__all__ = [
    "BODIES",
    "DEFAULT_LADDER",
    "LADDER",
    "OFFICIALS",
    "ORDFORANDE",
    "ORDFORANDE_STEGE",
    "POLITISK",
    "ROLES",
    "STEGAR",
    "TJANSTEMAN",
    "URGENT_LAWS",
    "AmountThreshold",
    "DelegationCheck",
    "DelegationRule",
    "Delegationsordning",
    "Position",
    "RoleLadder",
    "delegationsordning_from_document",
    "ladder_from_document",
    "lagrum_in_force",
    "may_be_urgent",
    "normalize_lagrum",
    "normalize_title",
    "ordning_on",
    "ordningar_from_document",
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


# --------------------------------------------------------------------------------------------
# A kommun's titles


#: The three places a title can have: the officials' ladder, the political ladder, or among the
#: titles that carry the ordförande's kompletterande beslutanderätt (on no ladder).
TJANSTEMAN: Final = "tjansteman"
POLITISK: Final = "politisk"
ORDFORANDE_STEGE: Final = "ordforande"
STEGAR: Final = (TJANSTEMAN, POLITISK, ORDFORANDE_STEGE)


def normalize_title(title: str) -> str:
    """Match key for a title: ``"IFO-chef"``, ``"ifo-chef"`` and ``" IFO-chef "`` are the same."""
    return " ".join(title.split()).casefold()


@dataclass(frozen=True)
class Position:
    """Where a title stands: its ladder (``STEGAR``), its rank on that ladder (0 = lowest) and
    the title as the kommun spells it."""

    stege: str
    rang: int
    titel: str


@dataclass(frozen=True)
class RoleLadder:
    """A kommun's titles, each on one ladder, lowest first (docs/delegationsordning.md, "Roles").

    The highest political title is the nämnd itself: its decisions are not delegated and need
    no anmälan. Titles compare case-insensitively with white space collapsed.
    """

    tjansteman: tuple[str, ...] = OFFICIALS
    politiska: tuple[str, ...] = BODIES
    ordforande: tuple[str, ...] = (ORDFORANDE,)

    @cached_property
    def _index(self) -> dict[str, Position]:
        out: dict[str, Position] = {}
        for stege, titles in (
            (TJANSTEMAN, self.tjansteman),
            (POLITISK, self.politiska),
            (ORDFORANDE_STEGE, self.ordforande),
        ):
            for i, title in enumerate(titles):
                out.setdefault(normalize_title(title), Position(stege, i, title))
        return out

    @property
    def titles(self) -> tuple[str, ...]:
        return (*self.tjansteman, *self.politiska, *self.ordforande)

    @property
    def ladder(self) -> tuple[str, ...]:
        """Both ladders as one order, lowest first (every body above every official)."""
        return (*self.tjansteman, *self.politiska)

    @property
    def namnd(self) -> str:
        """The nämnd's own title: the top of the political ladder."""
        return self.politiska[-1]

    def position(self, title: str) -> Position | None:
        """The title's place, ``None`` for a title the kommun does not have."""
        return self._index.get(normalize_title(title))

    def level(self, title: str) -> int | None:
        """The title's place on the combined ladder (higher decides more), ``None`` off it."""
        pos = self.position(title)
        if pos is None or pos.stege == ORDFORANDE_STEGE:
            return None
        return pos.rang if pos.stege == TJANSTEMAN else len(self.tjansteman) + pos.rang

    def satisfies(self, title: str, required: str) -> bool:
        """Whether ``title`` is at or above ``required`` on the combined ladder."""
        have, need = self.level(title), self.level(required)
        return have is not None and need is not None and have >= need

    def is_official(self, title: str) -> bool:
        pos = self.position(title)
        return pos is not None and pos.stege == TJANSTEMAN

    def is_ordforande(self, title: str) -> bool:
        pos = self.position(title)
        return pos is not None and pos.stege == ORDFORANDE_STEGE

    def is_namnd(self, title: str) -> bool:
        return normalize_title(title) == normalize_title(self.namnd)


#: The documented codes (docs/domain.md §6): a kommun without titles of its own uses these.
DEFAULT_LADDER: Final = RoleLadder()


def ladder_from_document(document: Mapping[str, Any] | None) -> RoleLadder:
    """A ``RoleLadder`` from a validated ``roller`` table (``None``: the default codes)."""
    if not document:
        return DEFAULT_LADDER
    return RoleLadder(
        tjansteman=tuple(str(t) for t in document["tjansteman"]),
        politiska=tuple(str(t) for t in document["politiska"]),
        ordforande=tuple(str(t) for t in document.get("ordforande") or (ORDFORANDE,)),
    )


def lagrum_in_force(lagrum: str, day: date) -> bool:
    """Whether the act a rule's lagrum names could be the basis of a decision on ``day``: LVU
    until 2026-12-31, lag 2026:1600 from 2027-01-01; other acts are not told apart by date
    here (used only to choose between points of one ordning for a decision without a lagrum)."""
    key = normalize_lagrum(lagrum)
    if key.startswith("lvu"):
        return day < LVU_NEW_FROM
    if key.startswith(("lag 2026:1600", "2026:1600")):
        return day >= LVU_NEW_FROM
    return True


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

    ``rule`` is ``None`` for a decision the ordning does not list, taken by the nämnd itself.
    ``ordforande_bradskande`` marks an urgent ordförandebeslut that must be reported at the next
    meeting; ``requires_anmalan_till_namnden`` puts the decision on the delegationsbeslut list.
    """

    rule: DelegationRule | None
    delegat_roll: str
    required: str
    ordforande_bradskande: bool
    requires_anmalan_till_namnden: bool


@dataclass(frozen=True)
class Delegationsordning:
    """A kommun's validated delegationsordning: one version of it, in force from ``giltig_fran``
    (``None``: for as long back as the kommun's record goes)."""

    kommun: str
    regler: tuple[DelegationRule, ...]
    source: str
    namn: str = ""
    version: str = ""
    giltig_fran: date | None = None
    roller: RoleLadder = field(default=DEFAULT_LADDER)

    def find(self, beslutstyp: str, lagrum: str) -> DelegationRule | None:
        """The rule for this decision type and lagrum, if the ordning has one."""
        key = (beslutstyp.strip(), normalize_lagrum(lagrum))
        for rule in self.regler:
            if (rule.beslutstyp, normalize_lagrum(rule.lagrum)) == key:
                return rule
        return None

    def candidates(self, beslutstyp: str, day: date | None) -> tuple[DelegationRule, ...]:
        """The rules for a decision code when the decision names no lagrum: every rule with the
        code whose act could apply on ``day`` (``lagrum_in_force``), or, when none does, every
        rule with the code (a point under LVU still covers the corresponding lag 2026:1600
        decision, ÖB 3, until the nämnd writes one for it)."""
        code = beslutstyp.strip()
        rules = tuple(r for r in self.regler if r.beslutstyp == code)
        in_force = tuple(r for r in rules if day is None or lagrum_in_force(r.lagrum, day))
        return in_force or rules

    def requirement(
        self,
        beslutstyp: str,
        lagrum: str | None,
        belopp_per_dygn: float | None = None,
        *,
        day: date | None = None,
    ) -> tuple[DelegationRule | None, str | None]:
        """What the ordning asks of a decision, whoever took it: the point and the lowest level
        (the strictest of several points; the nämnd when no point lists it; ``None`` for the
        level when the point needs an amount the decision does not give)."""
        if lagrum is not None:
            found = self.find(beslutstyp, lagrum)
            rules: tuple[DelegationRule, ...] = () if found is None else (found,)
        else:
            rules = self.candidates(beslutstyp, day)
        best: tuple[DelegationRule | None, str | None] = (None, self.roller.namnd)
        for i, rule in enumerate(rules):
            level = rule.required_level(belopp_per_dygn)
            if level is None:
                return rule, None
            if i == 0 or (self.roller.level(level) or 0) > (self.roller.level(best[1] or "") or 0):
                best = (rule, level)
        return best

    def check(
        self,
        beslutstyp: str,
        lagrum: str | None,
        delegat_roll: str,
        belopp_per_dygn: float | None = None,
        *,
        day: date | None = None,
    ) -> DelegationRule | None:
        """The rule that authorises the decision (``None``: not delegated, the nämnd took it
        itself), or raise ``RuleViolation("DELEG")``."""
        return self.assess(beslutstyp, lagrum, delegat_roll, belopp_per_dygn, day=day).rule

    def assess(
        self,
        beslutstyp: str,
        lagrum: str | None,
        delegat_roll: str,
        belopp_per_dygn: float | None = None,
        *,
        day: date | None = None,
    ) -> DelegationCheck:
        """Like ``check`` but also says whether the decision is an urgent ordförandebeslut and
        whether it must be reported to the nämnd.

        ``lagrum=None`` (decision events other than ``beslut_fattat`` name none): the decision
        code alone chooses, among the rules for it whose act applies on ``day``. When several
        remain, the decision must satisfy every one of them and the strictest is reported
        (policy POL-DELEG-LAGRUM: never accept what one of the nämnd's points forbids).
        """
        if belopp_per_dygn is not None and (math.isnan(belopp_per_dygn) or belopp_per_dygn < 0):
            raise ValueError(
                f"belopp_per_dygn must be a non-negative number, got {belopp_per_dygn}"
            )
        if lagrum is not None:
            found = self.find(beslutstyp, lagrum)
            rules: tuple[DelegationRule, ...] = () if found is None else (found,)
        else:
            rules = self.candidates(beslutstyp, day)
        if not rules:
            return self._not_delegated(beslutstyp, lagrum, delegat_roll)
        checks = [self._assess_rule(r, delegat_roll, belopp_per_dygn) for r in rules]
        return max(checks, key=lambda c: self.roller.level(c.required) or 0)

    def _not_delegated(
        self, beslutstyp: str, lagrum: str | None, delegat_roll: str
    ) -> DelegationCheck:
        """A decision the ordning does not list: only the nämnd itself may take it."""
        namnd = self.roller.namnd
        if self.roller.is_namnd(delegat_roll):
            return DelegationCheck(None, delegat_roll, namnd, False, False)
        under_sv = "" if lagrum is None else f" enligt {lagrum}"
        under_en = "" if lagrum is None else f" under {lagrum}"
        raise RuleViolation(
            _RULE_ID,
            sv=(
                f"Beslutstypen '{beslutstyp}'{under_sv} finns inte i delegationsordningen för "
                f"kommun {self.kommun}{self._label()}; bara nämnden ({namnd}) kan fatta "
                "beslutet."
            ),
            en=(
                f"decision type '{beslutstyp}'{under_en} is not in the delegationsordning of "
                f"kommun {self.kommun}{self._label()}: only the nämnd ({namnd}) may decide it"
            ),
        )

    def _label(self) -> str:
        return f" (version {self.version})" if self.version else ""

    def _assess_rule(
        self, rule: DelegationRule, delegat_roll: str, belopp_per_dygn: float | None
    ) -> DelegationCheck:
        where_sv = f"punkt {rule.id} ({rule.lagrum})"
        where_en = f"delegationsordning rule {rule.id} ({rule.lagrum})"
        ladder = self.roller
        position = ladder.position(delegat_roll)
        if position is None:
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
        if position.stege == ORDFORANDE_STEGE:
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
        if not ladder.satisfies(delegat_roll, required):
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
        anmalan = rule.anmalan_till_namnden and not ladder.is_namnd(delegat_roll)
        return DelegationCheck(rule, delegat_roll, required, False, anmalan)


# --------------------------------------------------------------------------------------------
# Building from a validated document


def delegationsordning_from_document(
    document: Mapping[str, Any],
    source: str,
    *,
    kommun: str | None = None,
    roller: RoleLadder | None = None,
) -> Delegationsordning:
    """A ``Delegationsordning`` from a validated document (the TOML table's shape).

    ``infra.config.kommun`` validates every kommun file with pydantic (unknown keys, types, the
    ladder, thresholds, the ordförande right, duplicates; errors naming the file and key path)
    before its document is stored and referenced; this pure builder only assembles the object
    the update validator judges with. ``kommun`` defaults to the document's own ``kommun`` (the
    inline form commands carried before configurations were referenced by version); ``roller``
    is the kommun's ladder, which the ordning's own ``roller`` table overrides.
    """
    raw_from = document.get("giltig_fran")
    giltig_fran = date.fromisoformat(raw_from) if isinstance(raw_from, str) else raw_from
    own = document.get("roller")
    return Delegationsordning(
        kommun=str(kommun if kommun is not None else document["kommun"]),
        regler=tuple(_rule(r) for r in document["regler"]),
        source=source,
        namn=str(document.get("namn") or ""),
        version=str(document.get("version") or ""),
        giltig_fran=giltig_fran if isinstance(giltig_fran, date) else None,
        roller=ladder_from_document(own) if own else (roller or DEFAULT_LADDER),
    )


def ordningar_from_document(
    document: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
    source: str,
    *,
    kommun: str,
    roller: RoleLadder | None = None,
) -> tuple[Delegationsordning, ...]:
    """Every version of a kommun's delegationsordning, oldest first: the ``delegationsordning``
    of a configuration document is one table or a list of them, each with its ``giltig_fran``."""
    if document is None:
        return ()
    tables = [document] if isinstance(document, Mapping) else list(document)
    ordningar = [
        delegationsordning_from_document(t, source, kommun=kommun, roller=roller) for t in tables
    ]
    return tuple(sorted(ordningar, key=lambda o: o.giltig_fran or date.min))


def ordning_on(ordningar: Sequence[Delegationsordning], day: date) -> Delegationsordning | None:
    """The version in force on ``day``: the latest whose ``giltig_fran`` is on or before it
    (one without ``giltig_fran`` has always been in force); ``None`` before the first."""
    found = None
    for ordning in ordningar:
        if ordning.giltig_fran is None or ordning.giltig_fran <= day:
            found = ordning
    return found


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
