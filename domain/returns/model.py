"""The records of Socialstyrelsen's yearly return on children in care, the validator's findings,
and the rule set that says what one reporting year asks (docs/reports.md "arsstatistik").

A record is one insats or placement of one child that ran during the reporting year (förordning
1981:1370; HSLF-FS 2016:3 as amended by HSLF-FS 2016:22, whose text barnflow does not hold: the
variables below are those the issue lists, docs/law.md §13 says which parts are verified).
Records are pure data: the child's identifier is added only when the file is written
(``identity.return_id``), so the report the nämnd reads never carries it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

#: A finding that blocks handing the file in (``fel``) or one to look at (``varning``).
Allvar = Literal["fel", "varning"]


@dataclass(frozen=True)
class Record:
    """One insats or placement of one child during the reporting year (one line of the return).

    ``start``/``slut``: the day it was verkställd or the placement began, and the day it ended
    (``None``: still running at the year's end). ``lvu_beslut``: the LVU beslut (omedelbart
    omhändertagande or a dom ordering care) the record rests on, when it is an LVU record.
    """

    kommun: str
    case_ref: str
    case_id: str
    post: str  # beslut:<id> | lvu:<placering_id>
    kon: str | None
    fodelsedatum: date | None
    insatstyp: str | None
    lagrum_form: str | None  # SoL | LVU | None (a lagrum barnflow cannot read)
    lagrum: str | None
    beslut_id: str | None
    beslutsdatum: date | None
    start: date | None
    slut: date | None
    placeringsform: str | None  # None: not a placement
    omplaceringar: int
    ensamkommande: bool | None
    vistelsekommun: str | None
    lvu_beslut: date | None = None
    #: IVO's pseudo-id of the child, the base of the temporary id rule (POL-ARSSTAT-ID)
    ivo_id: str | None = None

    @property
    def is_placement(self) -> bool:
        return self.placeringsform is not None


@dataclass(frozen=True)
class Finding:
    """One thing the validator found: a code, how bad, the case and record, a Swedish message."""

    kod: str
    allvar: Allvar
    case_ref: str
    post: str
    meddelande: str

    def to_json(self) -> dict[str, Any]:
        return {
            "kod": self.kod,
            "allvar": self.allvar,
            "case_ref": self.case_ref,
            "post": self.post,
            "meddelande": self.meddelande,
        }


@dataclass(frozen=True)
class RuleSet:
    """What one reporting year asks: its variables (the file's fields, in order), which are
    required, the codes of insatstyp and placeringsform, the age limit. One per year, never
    edited once the year's return is handed in (``domain.returns.RULE_SETS``)."""

    year: int
    version: str
    foreskrift: str
    variables: tuple[str, ...]
    required: tuple[str, ...]
    #: barnflow's insatstyp -> the return's code
    insatstyper: Mapping[str, str]
    #: barnflow's placement form (insats or LVU placering) -> the return's code
    placeringsformer: Mapping[str, str]
    #: variables the return asks that barnflow's event contract does not carry (left empty)
    ej_i_kontraktet: tuple[str, ...]
    #: the oldest age (completed years) a child may have on a record's first day in the year
    max_alder: int = 20
    #: set when no module of its own exists for ``year``: the year whose rule set is used (the
    #: report may be read, the file is refused until ``year_<YYYY>.py`` is written)
    harledd_fran: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "ar": self.year,
            "version": self.version,
            "foreskrift": self.foreskrift,
            "variabler": list(self.variables),
            "obligatoriska": list(self.required),
            "ej_i_kontraktet": list(self.ej_i_kontraktet),
            "max_alder": self.max_alder,
            "harledd_fran": self.harledd_fran,
        }
