"""Delegationsordning: which role may take which decision, per kommun (docs/domain.md §6).

A socialnämnd delegates its decision-making to officials and to its own utskott (KL 6:37–40). A
decision taken by someone without delegation is taken without authority, so barnflow rejects a
``beslut_fattat`` whose delegat is below the level the kommun's delegationsordning requires.

The delegationsordning is configuration, not code: every kommun writes its own and changes it by
nämnd decision, so it is a TOML file (format: ``docs/delegationsordning.md``, example:
``config/delegationsordning.sample.toml``) validated here with errors that name the key path.

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

This module is pure (no I/O outside ``load_delegationsordning``) so that workflows can evaluate a
parsed ordning deterministically.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Final

from domain.errors import RuleViolation

__all__ = [
    "BODIES",
    "OFFICIALS",
    "ORDFORANDE",
    "ROLES",
    "AmountThreshold",
    "DelegationCheck",
    "DelegationConfigError",
    "DelegationRule",
    "Delegationsordning",
    "load_delegationsordning",
    "normalize_lagrum",
    "parse_delegationsordning",
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
# One total order over both ladders: every body above every official (see module docstring).
_RANK: Final[dict[str, int]] = {role: i for i, role in enumerate((*OFFICIALS, *BODIES))}
_RULE_ID: Final = "DELEG"

_TOP_KEYS: Final = {"kommun", "namn", "version", "giltig_fran", "regler"}
_RULE_KEYS: Final = {
    "id",
    "beslutstyp",
    "lagrum",
    "lagsta_delegat",
    "beloppsgranser",
    "ordforande",
    "anmalan_till_namnden",
    "beskrivning",
}
_THRESHOLD_KEYS: Final = {"over_kr_per_dygn", "lagsta_delegat"}


class DelegationConfigError(ValueError):
    """The delegationsordning file is invalid; ``path`` names the offending key."""

    def __init__(self, path: str, message: str, source: str) -> None:
        super().__init__(f"{path}: {message} (in {source})")
        self.path = path
        self.message = message
        self.source = source


def role_satisfies(delegat_roll: str, required: str) -> bool:
    """Whether ``delegat_roll`` is at or above ``required`` on the combined ladder.

    ``ordforande`` never satisfies a ladder level by itself; it is handled per rule.
    """
    if delegat_roll not in _RANK or required not in _RANK:
        return False
    return _RANK[delegat_roll] >= _RANK[required]


#: Acts whose decisions the ordförande may take when the nämnd cannot wait (LVU 6, 11, 27, 31 d
#: §§; from 2027-01-01 lag 2026:1600 5 kap. 3 §, 6 kap. 2 §, 12 kap. 7 §, 13 kap. 7 §).
_URGENT_LAWS: Final = ("lvu", "lag 2026:1600", "2026:1600")


def normalize_lagrum(lagrum: str) -> str:
    """Match key for a lagrum: ``"LVU 6§"``, ``"lvu  6 §"`` and ``"LVU 6 §"`` are the same."""
    text = re.sub(r"\s*§", " §", lagrum)
    return " ".join(text.split()).casefold()


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
# Parsing and validation


class _Parser:
    """Walks the mapping; raises ``DelegationConfigError`` naming the first bad key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, path: str, message: str) -> DelegationConfigError:
        return DelegationConfigError(path, message, self.source)

    def table(self, value: object, path: str, allowed: set[str]) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            raise self.fail(path, f"expected a table, got {_type_name(value)}")
        for key in value:
            if key not in allowed:
                raise self.fail(f"{path}.{key}" if path else str(key), "unknown key")
        return value

    def text(self, table: Mapping[str, object], key: str, path: str, *, required: bool) -> str:
        full = f"{path}.{key}" if path else key
        if key not in table:
            if required:
                raise self.fail(full, "missing required key")
            return ""
        value = table[key]
        if not isinstance(value, str):
            raise self.fail(full, f"expected a string, got {_type_name(value)}")
        if required and not value.strip():
            raise self.fail(full, "must not be empty")
        return value.strip()

    def flag(self, table: Mapping[str, object], key: str, path: str, default: bool) -> bool:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, bool):
            raise self.fail(f"{path}.{key}", f"expected a boolean, got {_type_name(value)}")
        return value

    def role(self, table: Mapping[str, object], key: str, path: str) -> str:
        value = self.text(table, key, path, required=True)
        full = f"{path}.{key}"
        if value == ORDFORANDE:
            raise self.fail(
                full, "ordforande is not a ladder level; set ordforande = true on the rule instead"
            )
        if value not in _RANK:
            raise self.fail(full, f"unknown role {value!r} (expected one of {', '.join(_RANK)})")
        return value

    def thresholds(
        self, table: Mapping[str, object], path: str, base: str
    ) -> tuple[AmountThreshold, ...]:
        if "beloppsgranser" not in table:
            return ()
        raw = table["beloppsgranser"]
        full = f"{path}.beloppsgranser"
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise self.fail(full, f"expected an array of tables, got {_type_name(raw)}")
        if not raw:
            raise self.fail(full, "must not be empty (omit the key for no thresholds)")
        steps: list[AmountThreshold] = []
        previous_amount = -math.inf
        previous_level = base
        for i, item in enumerate(raw):
            where = f"{full}[{i}]"
            step = self.table(item, where, _THRESHOLD_KEYS)
            if "over_kr_per_dygn" not in step:
                raise self.fail(f"{where}.over_kr_per_dygn", "missing required key")
            amount = step["over_kr_per_dygn"]
            if isinstance(amount, bool) or not isinstance(amount, int | float):
                raise self.fail(
                    f"{where}.over_kr_per_dygn", f"expected a number, got {_type_name(amount)}"
                )
            if not math.isfinite(amount) or amount < 0:
                raise self.fail(f"{where}.over_kr_per_dygn", "must be a non-negative number")
            if amount <= previous_amount:
                raise self.fail(
                    f"{where}.over_kr_per_dygn", "thresholds must be in increasing order"
                )
            level = self.role(step, "lagsta_delegat", where)
            if _RANK[level] <= _RANK[previous_level]:
                raise self.fail(
                    f"{where}.lagsta_delegat",
                    f"{level!r} must be above the level below the threshold ({previous_level!r})",
                )
            steps.append(AmountThreshold(float(amount), level))
            previous_amount, previous_level = amount, level
        return tuple(steps)

    def rule(self, value: object, path: str) -> DelegationRule:
        table = self.table(value, path, _RULE_KEYS)
        rule_id = self.text(table, "id", path, required=True)
        beslutstyp = self.text(table, "beslutstyp", path, required=True)
        lagrum = self.text(table, "lagrum", path, required=True)
        lagsta = self.role(table, "lagsta_delegat", path)
        steps = self.thresholds(table, path, lagsta)
        ordforande = self.flag(table, "ordforande", path, default=False)
        if ordforande:
            if lagsta not in BODIES:
                raise self.fail(
                    f"{path}.ordforande",
                    "the ordförande's urgent decision right only complements a political body; "
                    f"lagsta_delegat is {lagsta!r}",
                )
            if not normalize_lagrum(lagrum).startswith(_URGENT_LAWS):
                raise self.fail(
                    f"{path}.ordforande",
                    "only LVU decisions may be urgent (LVU 1990:52 or lag 2026:1600), "
                    f"lagrum is {lagrum!r}",
                )
        return DelegationRule(
            id=rule_id,
            beslutstyp=beslutstyp,
            lagrum=lagrum,
            lagsta_delegat=lagsta,
            beloppsgranser=steps,
            ordforande=ordforande,
            anmalan_till_namnden=self.flag(table, "anmalan_till_namnden", path, default=True),
            beskrivning=self.text(table, "beskrivning", path, required=False),
        )

    def ordning(self, mapping: object) -> Delegationsordning:
        top = self.table(mapping, "", _TOP_KEYS)
        kommun = self.text(top, "kommun", "", required=True)
        if not (len(kommun) == 4 and kommun.isdigit()):
            raise self.fail("kommun", f"expected a 4-digit kommunkod, got {kommun!r}")
        raw_from = top.get("giltig_fran")
        giltig_fran: date | None = None
        if raw_from is not None:
            # TOML has distinct date and datetime types; a datetime here is a mistake.
            if not isinstance(raw_from, date) or isinstance(raw_from, datetime):
                raise self.fail("giltig_fran", f"expected a date, got {_type_name(raw_from)}")
            giltig_fran = raw_from
        if "regler" not in top:
            raise self.fail("regler", "missing required key")
        raw = top["regler"]
        if not isinstance(raw, Sequence) or isinstance(raw, str):
            raise self.fail("regler", f"expected an array of tables, got {_type_name(raw)}")
        if not raw:
            raise self.fail("regler", "must contain at least one rule")
        rules: list[DelegationRule] = []
        seen_ids: dict[str, int] = {}
        seen_keys: dict[tuple[str, str], int] = {}
        for i, item in enumerate(raw):
            path = f"regler[{i}]"
            rule = self.rule(item, path)
            if rule.id in seen_ids:
                raise self.fail(
                    f"{path}.id", f"duplicate id {rule.id!r} (also regler[{seen_ids[rule.id]}])"
                )
            key = (rule.beslutstyp, normalize_lagrum(rule.lagrum))
            if key in seen_keys:
                raise self.fail(
                    path,
                    f"duplicate rule for beslutstyp {rule.beslutstyp!r} and lagrum "
                    f"{rule.lagrum!r} (also regler[{seen_keys[key]}])",
                )
            seen_ids[rule.id] = i
            seen_keys[key] = i
            rules.append(rule)
        return Delegationsordning(
            kommun=kommun,
            regler=tuple(rules),
            source=self.source,
            namn=self.text(top, "namn", "", required=False),
            version=self.text(top, "version", "", required=False),
            giltig_fran=giltig_fran,
        )


def _type_name(value: object) -> str:
    names = {bool: "boolean", int: "integer", float: "float", str: "string", list: "array"}
    for kind, name in names.items():
        if type(value) is kind:
            return name
    if isinstance(value, Mapping):
        return "table"
    return type(value).__name__


def parse_delegationsordning(mapping: Mapping[str, object], source: str) -> Delegationsordning:
    """Validate an already-decoded delegationsordning (``source`` names it in error messages)."""
    return _Parser(source).ordning(mapping)


def load_delegationsordning(path: str | Path) -> Delegationsordning:
    """Read and validate a TOML delegationsordning file."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise DelegationConfigError("<file>", f"not valid TOML: {exc}", str(file)) from exc
    return parse_delegationsordning(data, str(file))


def delegationsordning_to_json(mapping: Mapping[str, object]) -> dict[str, object]:
    """A decoded TOML ordning as plain JSON (dates as ISO strings), to travel with a command."""
    out = dict(mapping)
    raw_from = out.get("giltig_fran")
    if isinstance(raw_from, date):
        out["giltig_fran"] = raw_from.isoformat()
    return out


def delegationsordning_from_json(mapping: Mapping[str, object], source: str) -> Delegationsordning:
    """The inverse of ``delegationsordning_to_json``, validated like a file."""
    data = dict(mapping)
    raw_from = data.get("giltig_fran")
    if isinstance(raw_from, str):
        try:
            data["giltig_fran"] = date.fromisoformat(raw_from)
        except ValueError as exc:
            raise DelegationConfigError("giltig_fran", f"not a date: {raw_from!r}", source) from exc
    return parse_delegationsordning(data, source)
