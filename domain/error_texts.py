"""Refusals in both languages: the Swedish text of every message an invalid input gets.

``EventValidationError`` messages are written in English where they are raised
(``domain.events``, ``domain.identity``); this module gives the handläggare's Swedish for each,
by pattern, so the HTTP API (422 with ``sv`` and ``en``), the CLI and the import print the same
two texts naming the same field. ``untranslated`` is what the tests check: a new message without
a Swedish pattern is listed there instead of reaching a user in English only.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

#: English message (full match) -> Swedish, with the groups of the English kept.
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(en, re.DOTALL), sv)
    for en, sv in (
        (r"must be a non-empty string", "måste vara en text som inte är tom"),
        (r"longer than (\d+) characters", r"är längre än \1 tecken"),
        (r"not an ISO 8601 timestamp: (.*)", r"är inte en tidpunkt enligt ISO 8601: \1"),
        (
            r"timestamp needs a UTC offset, e\.g\. \+01:00",
            "tidpunkten behöver en UTC-förskjutning, t.ex. +01:00",
        ),
        (r"outside (\d+)-(\d+): (.*)", r"ligger utanför åren \1–\2: \3"),
        (r"not an ISO date \(YYYY-MM-DD\): (.*)", r"är inte ett datum (ÅÅÅÅ-MM-DD): \1"),
        (r"year must be between (\d+) and (\d+)", r"året måste ligga mellan \1 och \2"),
        (r"must be an object", "måste vara ett objekt"),
        (r"must be an object with id and roll", "måste vara ett objekt med id och roll"),
        (r"an event must be a JSON object", "en händelse måste vara ett JSON-objekt"),
        (r"unknown field", "okänt fält"),
        (r"unknown field for (\w+)", r"okänt fält för \1"),
        (r"required for (\w+)", r"krävs för \1"),
        (r"is missing", "saknas"),
        (
            r"give exactly one of personnummer or tillfalligt_id",
            "ange exakt ett av personnummer och tillfalligt_id",
        ),
        (r"is a temporary id, not a personnummer", "är ett tillfälligt id, inte ett personnummer"),
        (r"looks like a personnummer", "ser ut som ett personnummer"),
        (r"must be one of (.*)", r"måste vara ett av \1"),
        (r"must be true or false", "måste vara true eller false"),
        (r"must be a non-negative number", "måste vara ett tal som inte är negativt"),
        (r"must be a 4-digit kommunkod", "måste vara en fyrsiffrig kommunkod"),
        (
            r"unknown event type (.*?); did you mean (.*)\?",
            r"okänd händelsetyp \1; menade du \2?",
        ),
        (r"unknown event type (.*)", r"okänd händelsetyp \1"),
        (r"(\w+) is written by barnflow only", r"\1 skrivs bara av barnflow"),
        (
            r"must be a role label such as (\S+) \(a-z, 0-9, _\), never a name",
            r"måste vara en rollbeteckning som \1 (a-z, 0-9, _), aldrig ett namn",
        ),
        (
            r"must not contain a personnummer or samordningsnummer \(free text reaches reports "
            r"and workflow history; the child is identified only by data\.barn\)",
            "får inte innehålla ett personnummer eller samordningsnummer (fritext når rapporter "
            "och arbetsflödets historik; barnet identifieras bara av data.barn)",
        ),
        (
            r"must be key ids: hex digits with an optional prefix, comma-separated",
            "måste vara nyckel-id: hexadecimala siffror med ett valfritt prefix, kommaseparerade",
        ),
        (
            r"must be 1-64 letters, digits or _\.:- \(a code\)",
            "måste vara 1–64 bokstäver, siffror eller _.:- (en kod)",
        ),
        # domain.identity.InvalidIdentity
        (
            r"expected 10 or 12 digits, optionally with '-' or '\+' before the last four",
            "förväntade 10 eller 12 siffror, ev. med '-' eller '+' före de fyra sista",
        ),
        (r"födelsenummer 000 does not exist", "födelsenummer 000 finns inte"),
        (r"check digit \(Luhn\) does not match", "kontrollsiffran (Luhn) stämmer inte"),
        (r"month (\d+) does not exist", r"månad \1 finns inte"),
        (r"century (\d+) is not 18, 19 or 20", r"seklet \1 är inte 18, 19 eller 20"),
        (
            r"samordningsnummer day (\d+) \(day (\d+)\) does not exist in (\S+)",
            r"samordningsnummerdag \1 (dag \2) finns inte i \3",
        ),
        (r"day (\d+) does not exist in (\S+)", r"dag \1 finns inte i \2"),
        (r"a temporary id has no sex digit", "ett tillfälligt id har ingen könssiffra"),
        (r"kommun (.*) is not a 4-digit kommunkod", r"kommun \1 är inte en fyrsiffrig kommunkod"),
        (r"birth date is after the reference date", "födelsedatumet ligger efter händelsens datum"),
        (
            r"temporary id must look like (.*)",
            r"ett tillfälligt id ska se ut som \1",
        ),
        (r"temporary id issue date (.*) does not exist", r"tillfälliga id:ts datum \1 finns inte"),
    )
)


def swedish(message: str) -> str | None:
    """The Swedish of an English refusal message, or ``None`` if no pattern knows it.

    A message that already carries both languages (``"<sv> / <en>"``) gives its Swedish half.
    """
    for pattern, sv in _PATTERNS:
        m = pattern.fullmatch(message)
        if m:
            return m.expand(sv)
    if " / " in message:
        return message.split(" / ", 1)[0]
    return None


def english(message: str) -> str:
    """The English half of a message (a bilingual ``"<sv> / <en>"`` gives its second half)."""
    return message.split(" / ", 1)[1] if swedish_is_half(message) else message


def swedish_is_half(message: str) -> bool:
    return " / " in message and not any(p.fullmatch(message) for p, _ in _PATTERNS)


def field_texts(field: str, message: str) -> tuple[str, str]:
    """``(sv, en)`` of a refusal of ``field``; both name the field. Swedish falls back to the
    English text when no pattern is known (``untranslated`` lists those for the tests)."""
    en = english(message)
    return f"{field}: {swedish(message) or en}", f"{field}: {en}"


def untranslated(messages: Iterable[str]) -> list[str]:
    """The messages of ``messages`` with no Swedish text."""
    return sorted({m for m in messages if swedish(m) is None})


def closest(word: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names closest to a misspelt one (``difflib``), best first; a word that is a
    part of a known name also finds it (``mottagen`` -> ``anmalan_mottagen`` …)."""
    names = list(known)
    found = difflib.get_close_matches(word, names, n=n, cutoff=0.6)
    if len(found) < n and len(word) >= 4:
        found += [k for k in names if word in k and k not in found][: n - len(found)]
    return found
