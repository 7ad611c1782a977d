"""The ``lagrum`` a decision cites, checked against the law in force on its legal date.

A beslut dated 2026 that cites "SoL 4:1" cites the old act's bistånd paragraph, repealed on
2025-07-01; one dated 2025 that cites "SoL 22:13" cites a chapter the old act never had; an LVU
paragraph on a 2027 decision cites a repealed act. Each is a record an auditor cannot rely on,
so the guard path (``domain.case.CaseState.check``, rule ``P-LAGRUM``) refuses a new decision
that does it, naming the paragraph in force, and an import of historic lines lists it instead
(``infra.persistence.importer``). docs/law.md §4.1 has the forms read and the mapping table.

What is checked, and only that (a lagrum barnflow does not recognise is free text):

- the act: SoL (2001:453 until 2025-06-30, 2025:400 from 2025-07-01; "SoL" alone means the one
  in force on the decision's day), LVU (1990:52, until 2026-12-31) and lag 2026:1600 (from
  2027-01-01). An act named that was not in force on the day is refused; so is LVU from
  2027-01-01, except 22 § (förebyggande insatser, kept by ÖB 5 lag 2026:1600);
- the chapter: "SoL 22:13" before 2025-07-01 (the old act had 16 chapters), a 2026:1600 chapter
  above 21, an LVU paragraph above 45;
- the paragraph: a shorthand that is the other SoL's decision paragraph (``OLD_TO_NEW``) and not
  one in the act in force, e.g. "SoL 4:1" from 2025-07-01; numbers that are decision paragraphs
  in both acts ("SoL 11:1": old utredning, new insatser) are refused only for a decision about
  an insats (``beslut_fattat`` with ``insats``) that cites the other act's insats paragraph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from domain.errors import RuleViolation
from domain.events import CaseEvent
from domain.rules import LVU, LVU_NEW, LVU_NEW_FROM, NEW_SOL, NEW_SOL_FROM, OLD_SOL

#: The guard's rule id (docs/domain.md §7.1).
RULE_ID = "P-LAGRUM"

#: A chaptered paragraph: (chapter, paragraph with its letter, e.g. "8b").
Par = tuple[int, str]

#: Chapters of each chaptered act (SoL 2001:453 had 16, SoL 2025:400 has 35, 2026:1600 21);
#: LVU 1990:52 has no chapters and 45 §§.
CHAPTERS = {OLD_SOL: 16, NEW_SOL: 35, LVU_NEW: 21}
LVU_LAST_PARAGRAPH = 45

#: SoL 2001:453 paragraphs that decisions in a barnärende cite, and their SoL 2025:400
#: counterparts (read in both statute texts; the shared law catalogue's mapping "4:1 bistånd →
#: 11:1 / 12:1 … 6:8/8 a/8 b → 22:13/22:16/22:14").
OLD_TO_NEW: dict[Par, tuple[Par, ...]] = {
    (4, "1"): ((11, "1"), (12, "1")),  # bistånd → insatser för personliga / ekonomiska behov
    (4, "2"): ((11, "4"), (12, "2")),  # bistånd utöver
    (6, "1"): ((9, "1"),),  # vård i ett annat hem än det egna
    (6, "6"): ((22, "2"),),  # medgivande / beslut om vård i familjehem
    (6, "8"): ((22, "13"),),  # övervägande var sjätte månad
    (6, "8a"): ((22, "16"),),  # flyttningsförbud övervägs
    (6, "8b"): ((22, "14"),),  # vårdnadsöverflyttning
    (11, "1"): ((14, "2"),),  # inleda utredning
    (11, "1a"): ((20, "1"), (20, "2")),  # skyddsbedömning, förhandsbedömning
    (11, "2"): ((20, "3"),),  # utredningstid, förlängning
    (11, "3"): ((9, "12"), (9, "13")),  # vårdplan
    (11, "4a"): ((23, "1"),),  # uppföljning efter utredning
    (11, "4b"): ((23, "2"),),  # uppföljning efter placering
    (11, "4c"): ((23, "4"), (23, "5")),  # uppföljningens avslut
    (14, "1b"): ((19, "6"),),  # information till anmälaren
}
NEW_TO_OLD: dict[Par, tuple[Par, ...]] = {}
for _old, _news in OLD_TO_NEW.items():
    for _new in _news:
        NEW_TO_OLD[_new] = (*NEW_TO_OLD.get(_new, ()), _old)

#: The insats paragraphs of each SoL: what a decision about an insats cites.
INSATS = {OLD_SOL: ((4, "1"), (4, "2")), NEW_SOL: ((11, "1"), (12, "1"), (11, "4"), (12, "2"))}

#: Numbers that are a decision paragraph in the act in force too, so a shorthand citing them is
#: not taken for the other act's (old 9:1 återkrav, old 11:1 utredning, old 11:4; new 11:1-3).
AMBIGUOUS: dict[str, frozenset[Par]] = {
    OLD_SOL: frozenset({(9, "1"), (11, "1"), (11, "4")}),
    NEW_SOL: frozenset({(11, "1"), (11, "2"), (11, "3")}),
}

#: LVU 1990:52 paragraphs and their lag 2026:1600 counterparts (the sample delegationsordning
#: and docs/law-2027.md; ÖB 3: an LVU decision counts as one under the corresponding provision).
LVU_TO_NEW: dict[str, tuple[Par, ...]] = {
    "2": ((3, "2"),),
    "3": ((3, "3"),),
    "4": ((4, "1"),),
    "6": ((5, "1"),),
    "9a": ((5, "8"),),
    "11": ((6, "1"),),
    "13": ((8, "2"), (8, "3")),
    "13c": ((9, "1"),),
    "14": ((7, "2"),),
    "21": ((10, "1"),),
    "24": ((12, "1"), (12, "2")),
    "27": ((12, "6"),),
    "31a": ((13, "1"),),
    "31b": ((13, "2"),),
    "31d": ((13, "6"),),
    "32": ((11, "4"),),
}
NEW_TO_LVU: dict[Par, tuple[str, ...]] = {}
for _lvu, _pars in LVU_TO_NEW.items():
    for _par in _pars:
        NEW_TO_LVU[_par] = (*NEW_TO_LVU.get(_par, ()), _lvu)
#: LVU 22 § (förebyggande insatser) decided before 2027-01-01 stays under LVU (ÖB 5).
LVU_KEPT = frozenset({"22"})

_SFS = {"2001:453": OLD_SOL, "2025:400": NEW_SOL}
_SOL = re.compile(r"^(?:sol|socialtjänstlagen)\b\s*(?:\(\s*)?(?P<sfs>\d{4}:\d+)?\s*\)?", re.I)
_LVU = re.compile(r"^lvu\b\s*(?:\(\s*)?(?:1990:52)?\s*\)?", re.I)
_NEW_LVU = re.compile(r"^(?:lag(?:en)?\s*)?\(?\s*2026:1600\s*\)?", re.I)
_LETTER = r"(?:\s?[a-z](?![a-zåäö]))?"
_CHAPTERED = re.compile(
    rf"(?P<ch>\d+)\s*(?:kap\.?\s*(?P<p1>\d+{_LETTER})\s*(?:[-–]\s*\d+{_LETTER}\s*)?§"
    rf"|:\s*(?P<p2>\d+{_LETTER}))",
    re.I,
)
_PARAGRAPH = re.compile(rf"^\s*(?P<p>\d+{_LETTER})", re.I)


@dataclass(frozen=True)
class Citation:
    """A lagrum read: the act (``None``: SoL without its SFS number) and the paragraphs."""

    act: str | None
    sol: bool
    chaptered: tuple[Par, ...] = ()
    paragraph: str | None = None  # LVU


@dataclass(frozen=True)
class LagrumProblem:
    """Why a lagrum was not in force on the decision's day, and what was."""

    lagrum: str
    day: date
    cited: str
    in_force: tuple[str, ...]
    why_sv: str
    why_en: str

    def violation(self) -> RuleViolation:
        """The refusal: ``P-LAGRUM`` naming the paragraph in force."""
        sv_force = " eller ".join(self.in_force)
        en_force = " or ".join(self.in_force)
        return RuleViolation(
            RULE_ID,
            f"Lagrummet {self.lagrum!r} ({self.cited}) gällde inte {self.day}: {self.why_sv}. "
            f"I kraft den dagen: {sv_force}.",
            f"lagrum {self.lagrum!r} ({self.cited}) was not in force on {self.day}: "
            f"{self.why_en}; in force that day: {en_force}",
        )


def _norm_par(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def canonical(act: str, par: Par | str) -> str:
    """``SoL 2025:400 11 kap. 1 §``, ``LVU 1990:52 6 §``, ``lag 2026:1600 5 kap. 1 §``."""
    if isinstance(par, str):
        return f"{act} {_show(par)} §"
    return f"{act} {par[0]} kap. {_show(par[1])} §"


def _show(par: str) -> str:
    """``8b`` → ``8 b``."""
    return re.sub(r"(\d)([a-z])$", r"\1 \2", par)


@lru_cache(maxsize=4096)
def parse(lagrum: str) -> Citation | None:
    """Read a lagrum; ``None`` if it does not start with an act barnflow checks.

    Cached (the answer is a frozen ``Citation``): ``arsstatistik`` reads the lagrum of every
    beslut of a kommun, a few distinct texts tens of thousands of times at a million events.

    Forms: ``SoL 11:1``, ``SoL 11 kap. 1 §``, ``SoL 2025:400 11 kap. 1 §``, ``SoL 6:8 b``,
    ``LVU 6 §``, ``LVU 6§``, ``LVU (1990:52) 13 § tredje st.``, ``lag 2026:1600 5 kap. 1 §``,
    ``2026:1600 8 kap. 2-3 §§``; white space is not significant and every paragraph a chaptered
    citation names is read ("SoL 11:1, 22:2").
    """
    text = " ".join(lagrum.split())
    m = _SOL.match(text)
    if m:
        sfs = m.group("sfs")
        act = _SFS.get(sfs) if sfs else None
        if sfs and act is None:
            return None  # another SFS number (e.g. the 1980 act): not checked
        pars = tuple(
            (int(c["ch"]), _norm_par(c["p1"] or c["p2"]))
            for c in _CHAPTERED.finditer(text[m.end() :])
        )
        return Citation(act, True, pars)
    m = _NEW_LVU.match(text)
    if m:
        pars = tuple(
            (int(c["ch"]), _norm_par(c["p1"] or c["p2"]))
            for c in _CHAPTERED.finditer(text[m.end() :])
        )
        return Citation(LVU_NEW, False, pars)
    m = _LVU.match(text)
    if m:
        p = _PARAGRAPH.match(text[m.end() :])
        return Citation(LVU, False, (), _norm_par(p["p"]) if p else None)
    return None


def act_in_force(act: str, day: date) -> bool:
    """Whether ``act`` (one of the four checked) was in force on ``day``."""
    if act == OLD_SOL:
        return day < NEW_SOL_FROM
    if act == NEW_SOL:
        return day >= NEW_SOL_FROM
    if act == LVU:
        return day < LVU_NEW_FROM
    return day >= LVU_NEW_FROM


def check(lagrum: str, day: date, *, insats: bool = False) -> LagrumProblem | None:
    """The first reason ``lagrum`` was not in force on ``day``, or ``None``.

    ``insats``: the decision is about an insats, so a SoL citation must be the insats
    paragraph of the act in force (old 4 kap. 1-2 §§, new 11 kap. 1 §, 4 § / 12 kap. 1-2 §§).
    """
    cit = parse(lagrum)
    if cit is None:
        return None
    if cit.sol:
        return _check_sol(lagrum, day, cit, insats)
    if cit.act == LVU:
        return _check_lvu(lagrum, day, cit)
    return _check_lvu_new(lagrum, day, cit)


def _check_sol(lagrum: str, day: date, cit: Citation, insats: bool) -> LagrumProblem | None:
    force = NEW_SOL if day >= NEW_SOL_FROM else OLD_SOL
    other = OLD_SOL if force == NEW_SOL else NEW_SOL
    mapping = OLD_TO_NEW if force == NEW_SOL else NEW_TO_OLD
    repealed = force == NEW_SOL
    switch = "upphävdes 2025-07-01" if repealed else "trädde i kraft 2025-07-01"
    switch_en = "was repealed on 2025-07-01" if repealed else "entered into force 2025-07-01"
    if cit.act is not None and cit.act != force:
        first = cit.chaptered[0] if cit.chaptered else None
        counterparts = mapping.get(first, ()) if first else ()
        cited = canonical(cit.act, first) if first else cit.act
        return _problem(
            lagrum, day, cited, force, counterparts, f"{cit.act} {switch}", f"{cit.act} {switch_en}"
        )
    for par in cit.chaptered:
        if par[0] > CHAPTERS[force]:
            return _problem(
                lagrum,
                day,
                canonical(other, par),
                force,
                mapping.get(par, ()),
                f"{force} har inget {par[0]} kap.",
                f"{force} has no chapter {par[0]}",
            )
        if par in mapping and par not in AMBIGUOUS[force] and cit.act is None:
            return _problem(
                lagrum,
                day,
                canonical(other, par),
                force,
                mapping[par],
                f"paragrafen hör till {other}, som {switch}",
                f"the paragraph is {other}'s, which {switch_en}",
            )
        if insats and par in INSATS[other] and par not in INSATS[force]:
            return _problem(
                lagrum,
                day,
                canonical(other, par),
                force,
                INSATS[force][:2],
                f"ett beslut om insats enligt {force} grundas på {_insats_sv(force)}",
                f"an insats decision under {force} rests on {_insats_sv(force)}",
            )
    return None


def _insats_sv(act: str) -> str:
    return "4 kap. 1 §" if act == OLD_SOL else "11 kap. 1 § eller 12 kap. 1 §"


def _check_lvu(lagrum: str, day: date, cit: Citation) -> LagrumProblem | None:
    par = cit.paragraph
    cited = canonical(LVU, par) if par else LVU
    if not act_in_force(LVU, day) and par not in LVU_KEPT:
        counterparts = LVU_TO_NEW.get(par, ()) if par else ()
        return _problem(
            lagrum,
            day,
            cited,
            LVU_NEW,
            counterparts,
            f"{LVU} upphävdes 2027-01-01 ({LVU_NEW})",
            f"{LVU} was repealed on 2027-01-01 ({LVU_NEW})",
        )
    number = re.match(r"\d+", par or "")
    if number and int(number.group(0)) > LVU_LAST_PARAGRAPH:
        return _problem(
            lagrum, day, cited, LVU, (), f"{LVU} har ingen {par} §", f"{LVU} has no § {par}"
        )
    return None


def _check_lvu_new(lagrum: str, day: date, cit: Citation) -> LagrumProblem | None:
    first = cit.chaptered[0] if cit.chaptered else None
    cited = canonical(LVU_NEW, first) if first else LVU_NEW
    if not act_in_force(LVU_NEW, day):
        lvu = NEW_TO_LVU.get(first, ()) if first else ()
        return LagrumProblem(
            lagrum,
            day,
            cited,
            tuple(canonical(LVU, p) for p in lvu) or (LVU,),
            f"{LVU_NEW} träder i kraft 2027-01-01",
            f"{LVU_NEW} enters into force on 2027-01-01",
        )
    for par in cit.chaptered:
        if par[0] > CHAPTERS[LVU_NEW]:
            return _problem(
                lagrum,
                day,
                canonical(LVU_NEW, par),
                LVU_NEW,
                (),
                f"{LVU_NEW} har inget {par[0]} kap.",
                f"{LVU_NEW} has no chapter {par[0]}",
            )
    return None


def _problem(
    lagrum: str,
    day: date,
    cited: str,
    force: str,
    counterparts: tuple[Par, ...],
    *why: str,
) -> LagrumProblem:
    """``why`` is the Swedish and the English reason."""
    why_sv, why_en = why
    in_force = tuple(canonical(force, p) for p in counterparts) or (force,)
    return LagrumProblem(lagrum, day, cited, in_force, why_sv, why_en)


def event_problem(ev: CaseEvent) -> LagrumProblem | None:
    """The problem with the ``lagrum`` of any event that carries one (``beslut_fattat`` today,
    and LVU decisions when they gain the field), judged on the event's legal date."""
    lagrum = ev.data.get("lagrum")
    if not isinstance(lagrum, str):
        return None
    insats = ev.type == "beslut_fattat" and ev.data.get("insats") is not None
    return check(lagrum, ev.legal_date, insats=insats)


def check_event(ev: CaseEvent) -> None:
    """Raise ``P-LAGRUM`` if the event's lagrum was not in force on its legal date."""
    problem = event_problem(ev)
    if problem is not None:
        raise problem.violation()


def is_omedelbart_omhandertagande(lagrum: str) -> bool:
    """LVU 6 § or its successor, lag 2026:1600 5 kap. 1 § (the exception of P-NO-UTREDNING)."""
    cit = parse(lagrum)
    if cit is None or cit.sol:
        return False
    if cit.act == LVU:
        return cit.paragraph == "6"
    return (5, "1") in cit.chaptered


def insats_lagrum(day: date) -> str:
    """The lagrum of a decision about an insats for a child on ``day``, in canonical form:
    ``SoL 4 kap. 1 §`` until 2025-06-30, ``SoL 11 kap. 1 §`` from 2025-07-01 (a generator of
    histories across the switch, the demo, a test, writes what the law then said)."""
    act = NEW_SOL if day >= NEW_SOL_FROM else OLD_SOL
    return "SoL " + canonical(act, INSATS[act][0]).split(" ", 2)[2]
