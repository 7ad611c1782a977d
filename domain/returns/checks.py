"""The validator of the yearly return: every record that is missing, invalid or internally
inconsistent, with a code, the case and a Swedish message, before anything is handed in.

Codes (docs/reports.md "arsstatistik", the table of findings):

| code | allvar | what |
|---|---|---|
| ``SLUT_FORE_START`` | fel | the end is dated before the start |
| ``START_FORE_BESLUT`` | fel | verkställd or placed before the beslut |
| ``BESLUT_SAKNAS`` | fel | an insats or placement without a beslut (no beslut date) |
| ``LVU_UTAN_BESLUT`` | fel | an LVU record without an LVU beslut on or before its start |
| ``LVU_PLACERINGSFORM_SAKNAS`` | fel | LVU care with no recorded placement: no placeringsform |
| ``OVERLAPPANDE_PLACERINGAR`` | fel | two placements of the child overlap by a day or more |
| ``ALDER_OVER_GRANS`` | fel | older than the limit (20) on the record's first day in the year |
| ``INSATSTYP_OKAND`` | fel | an insatstyp the year's code list does not have |
| ``PLACERINGSFORM_OKAND`` | fel | a placeringsform the year's code list does not have |
| ``LAGRUM_OKANT`` | fel | neither SoL nor LVU can be read from the lagrum |
| ``VARIABEL_SAKNAS`` | fel | a required variable is empty (e.g. fodelsedatum, kon) |
| ``KON_OKANT`` | varning | kön is ``okant`` or ``annat``: the return's field may not take it |

A move (``placering_flyttad``) is not an overlap: the day of a move belongs to the new home
(POL-PLACERING-DYGN).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date

from domain.placement import age_on
from domain.returns.model import Finding, Record, RuleSet


def _f(kod: str, r: Record, text: str, allvar: str = "fel") -> Finding:
    return Finding(kod, "fel" if allvar == "fel" else "varning", r.case_ref, r.post, text)


def value_of(r: Record, variable: str) -> object:
    """A record's value of one of the rule set's variables (``None``: empty)."""
    return getattr(r, variable, None)


def check_record(rules: RuleSet, r: Record) -> list[Finding]:
    """The findings of one record on its own."""
    out: list[Finding] = []
    first = date(rules.year, 1, 1)
    if r.start is not None and r.slut is not None and r.slut < r.start:
        out.append(_f("SLUT_FORE_START", r, f"Slutdatum {r.slut} ligger före start {r.start}."))
    if r.beslutsdatum is None:
        out.append(_f("BESLUT_SAKNAS", r, "Insatsen eller placeringen saknar beslut."))
    elif r.start is not None and r.start < r.beslutsdatum:
        out.append(
            _f("START_FORE_BESLUT", r, f"Start {r.start} ligger före beslutet {r.beslutsdatum}.")
        )
    if r.lagrum_form == "LVU" and r.lvu_beslut is None:
        out.append(
            _f(
                "LVU_UTAN_BESLUT",
                r,
                "LVU-placering utan beslut om omedelbart omhändertagande eller dom om vård "
                "före starten.",
            )
        )
    if r.post.startswith("lvu-vard:"):
        out.append(
            _f(
                "LVU_PLACERINGSFORM_SAKNAS",
                r,
                "Vård enligt LVU utan registrerad placering: placeringsformen saknas.",
            )
        )
    if r.lagrum_form is None and not r.post.startswith("lvu"):
        out.append(_f("LAGRUM_OKANT", r, f"Lagrummet {r.lagrum!r} anger varken SoL eller LVU."))
    if r.insatstyp is not None and r.insatstyp not in rules.insatstyper:
        out.append(
            _f(
                "INSATSTYP_OKAND",
                r,
                f"Insatstypen {r.insatstyp!r} finns inte i {rules.year} års kodlista.",
            )
        )
    if r.placeringsform is not None and r.placeringsform not in rules.placeringsformer:
        out.append(
            _f(
                "PLACERINGSFORM_OKAND",
                r,
                f"Placeringsformen {r.placeringsform!r} finns inte i {rules.year} års kodlista.",
            )
        )
    for variable in rules.required:
        if variable == "insatstyp" and r.post.startswith("lvu-vard:"):
            continue  # LVU_PLACERINGSFORM_SAKNAS says it
        if value_of(r, variable) is None:
            out.append(_f("VARIABEL_SAKNAS", r, f"Obligatorisk uppgift saknas: {variable}."))
    if r.kon in ("okant", "annat"):
        out.append(
            _f(
                "KON_OKANT",
                r,
                f"Kön är {r.kon!r}; kontrollera uppgiften före inlämning.",
                "varning",
            )
        )
    if r.fodelsedatum is not None and r.start is not None:
        day = max(r.start, first)
        age = age_on(r.fodelsedatum, day)
        if age is not None and age > rules.max_alder:
            out.append(
                _f(
                    "ALDER_OVER_GRANS",
                    r,
                    f"Barnet var {age} år den {day}; statistiken avser barn och unga till och "
                    f"med {rules.max_alder} år.",
                )
            )
    return out


def _overlaps(rules: RuleSet, records: list[Record]) -> list[Finding]:
    out = []
    placed = sorted(
        (r for r in records if r.is_placement and r.start), key=lambda r: r.start or date.min
    )
    far = date(rules.year + 1, 1, 1)
    for i, a in enumerate(placed):
        for b in placed[i + 1 :]:
            assert a.start is not None and b.start is not None
            a_end = a.slut or far
            b_end = b.slut or far
            if b.start < a_end and a.start < b_end:
                out.append(
                    _f(
                        "OVERLAPPANDE_PLACERINGAR",
                        b,
                        f"Placeringen överlappar {a.post} från {max(a.start, b.start)}"
                        + (
                            f" till {min(a_end, b_end)}."
                            if min(a_end, b_end) < far
                            else " till årets slut."
                        ),
                    )
                )
    return out


def validate(rules: RuleSet, records: Iterable[Record]) -> list[Finding]:
    """Every finding of the year's records: per record, then overlaps per child (case)."""
    items = list(records)
    out = [f for r in items for f in check_record(rules, r)]
    by_case: dict[str, list[Record]] = defaultdict(list)
    for r in items:
        by_case[r.case_id].append(r)
    for case_id in sorted(by_case):
        out.extend(_overlaps(rules, by_case[case_id]))
    return sorted(out, key=lambda f: (f.case_ref, f.post, f.kod))
