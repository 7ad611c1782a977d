"""The Swedish of every 4xx the API answers in its own words (auth, scope, limits, reports …).

A refusal of a command carries its own ``sv``/``en`` (``infra.temporal.rejections``); every other
4xx is written in English where it is raised and gets its Swedish here, by pattern, so a
calling system can show the handläggare one language and log the other. A detail no pattern
knows still gets Swedish: the status' own sentence with the English detail after it
(``known`` is false for those, and the tests list them).
"""

from __future__ import annotations

import re
from typing import Any

from domain.error_texts import swedish as domain_swedish

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(en, re.DOTALL), sv)
    for en, sv in (
        # authentication (401)
        (r"missing bearer token", "token saknas (Authorization: Bearer <token>)"),
        (r"expected 'Authorization: Bearer <token>'", "förväntade 'Authorization: Bearer <token>'"),
        (r"token expired", "token har gått ut"),
        (r"invalid token", "ogiltig token"),
        (r"unknown or revoked API key", "okänd eller återkallad API-nyckel"),
        (r"token has no valid role", "token saknar giltig roll"),
        (r"token has no valid kommun", "token saknar giltig kommun"),
        (r"token units must be a list of strings", "tokens enheter måste vara en lista av texter"),
        (r"token has no subject", "token saknar subjekt (sub)"),
        (
            r"token lives longer than role (\S+) may \((\d+) s\)",
            r"token gäller längre än rollen \1 får (\2 s)",
        ),
        # scope (403)
        (r"the caller may not act in kommun (\S+)", r"anroparen får inte agera i kommun \1"),
        (r"role (\S+) may not send commands", r"rollen \1 får inte skicka kommandon"),
        (r"role (\S+) may not read case content", r"rollen \1 får inte läsa ärendeinnehåll"),
        (r"role (\S+) may not do this \((.*)\)", r"rollen \1 får inte göra detta (\2)"),
        (
            r"the case's enhet is not one of the caller's units",
            "ärendets enhet är inte en av anroparens enheter",
        ),
        (
            r"the case belongs to a unit the caller may not see",
            "ärendet tillhör en enhet som anroparen inte får se",
        ),
        (
            r"units: (.*) is not one of the caller's units",
            r"units: \1 är inte en av anroparens enheter",
        ),
        (
            r"report (\S+) covers every unit of the kommun; the caller is bound to units",
            r"rapporten \1 omfattar alla kommunens enheter; anroparen är bunden till enheter",
        ),
        (
            r"line (\d+): the caller may not import into kommun (.*)",
            r"rad \1: anroparen får inte importera till kommun \2",
        ),
        # not found (404), method (405), body (400, 413), load (429)
        (r"no case (.*) in kommun (\S+)", r"inget ärende \1 i kommun \2"),
        (r"no report (.*?); reports: (.*)", r"ingen rapport \1; rapporter: \2"),
        (
            r"no such subscription in the caller's kommun and units",
            "ingen sådan prenumeration i anroparens kommun och enheter",
        ),
        (r"Not Found", "finns inte"),
        (r"Method Not Allowed", "metoden är inte tillåten"),
        (r"the body is not valid JSON", "kroppen är inte giltig JSON"),
        (r"the body is not UTF-8 text", "kroppen är inte UTF-8-text"),
        (r"line (\d+): not a JSON object", r"rad \1: inte ett JSON-objekt"),
        (r"the body is larger than (\d+) bytes", r"kroppen är större än \1 byte"),
        (
            r"more than (\d+) commands in flight; retry shortly",
            r"fler än \1 kommandon pågår; försök igen om en stund",
        ),
        # validation (422) outside the event contract
        (r"known_at: needs a UTC offset", "known_at: behöver en UTC-förskjutning"),
        (r"(\S+): report (\S+) takes (\S+) only", r"\1: rapporten \2 tar bara \3"),
        (
            r"min_position: (\d+) is beyond the newest stored position (\d+)",
            r"min_position: \1 ligger efter den senast lagrade positionen \2",
        ),
        (
            r"after: (\d+) is beyond the newest stored position (\d+)",
            r"after: \1 ligger efter den senast lagrade positionen \2",
        ),
        (r"--as-of: not a date \(YYYY-MM-DD\): (.*)", r"--as-of: inte ett datum (ÅÅÅÅ-MM-DD): \1"),
        (
            r"--(quarter|half|month): expected e\.g\. (\S+), got (.*)",
            r"--\1: väntade t.ex. \2, fick \3",
        ),
    )
)

#: The status' own Swedish, before a detail no pattern knows.
STATUS_SV = {
    400: "Felaktig begäran",
    401: "Inte inloggad",
    403: "Förbjudet",
    404: "Finns inte",
    405: "Metoden är inte tillåten",
    409: "Konflikt",
    413: "För stor kropp",
    415: "Fel medietyp",
    422: "Ogiltigt värde",
    429: "För många anrop",
}


def swedish(detail: str) -> str | None:
    """The Swedish of an API detail (or of an event-contract refusal ``<field>: <message>``,
    possibly after ``line <n>:``), or ``None``."""
    for pattern, sv in _PATTERNS:
        m = pattern.fullmatch(detail)
        if m:
            return m.expand(sv)
    line = re.fullmatch(r"line (\d+): (.*)", detail, re.DOTALL)
    if line:
        inner = swedish(line.group(2))
        return f"rad {line.group(1)}: {inner}" if inner else None
    field = re.fullmatch(r"([\w.$\[\]-]+): (.*)", detail, re.DOTALL)
    if field:
        inner = domain_swedish(field.group(2))
        return f"{field.group(1)}: {inner}" if inner else None
    return None


def problem_texts(status: int, detail: str) -> tuple[str, str]:
    """``(sv, en)`` of a 4xx: the known Swedish, or the status' sentence and the English."""
    return swedish(detail) or f"{STATUS_SV.get(status, 'Fel')}: {detail}", detail


#: pydantic error type -> Swedish (``{ctx}`` keys from the error's context).
_PYDANTIC_SV = {
    "missing": "saknas",
    "extra_forbidden": "okänt fält",
    "string_type": "måste vara en text",
    "string_too_short": "är kortare än {min_length} tecken",
    "string_too_long": "är längre än {max_length} tecken",
    "string_pattern_mismatch": "har fel form (mönster {pattern})",
    "int_parsing": "måste vara ett heltal",
    "int_type": "måste vara ett heltal",
    "float_parsing": "måste vara ett tal",
    "bool_parsing": "måste vara true eller false",
    "greater_than_equal": "måste vara minst {ge}",
    "less_than_equal": "får vara högst {le}",
    "greater_than": "måste vara större än {gt}",
    "less_than": "måste vara mindre än {lt}",
    "list_type": "måste vara en lista",
    "too_short": "måste ha minst {min_length} element",
    "too_long": "får ha högst {max_length} element",
    "dict_type": "måste vara ett objekt",
    "model_attributes_type": "måste vara ett objekt",
    "uuid_parsing": "är inte ett UUID",
    "uuid_type": "är inte ett UUID",
    "date_parsing": "är inte ett datum (ÅÅÅÅ-MM-DD)",
    "date_from_datetime_parsing": "är inte ett datum (ÅÅÅÅ-MM-DD)",
    "datetime_parsing": "är inte en tidpunkt (ISO 8601)",
    "datetime_from_date_parsing": "är inte en tidpunkt (ISO 8601)",
    "literal_error": "måste vara ett av {expected}",
    "enum": "måste vara ett av {expected}",
    "json_invalid": "är inte giltig JSON",
}


def pydantic_swedish(error: dict[str, Any] | Any) -> str:
    """The Swedish of one pydantic validation error (its type and context)."""
    template = _PYDANTIC_SV.get(str(error.get("type", "")))
    if template is None:
        return f"ogiltigt värde ({error.get('msg', '')})"
    try:
        return template.format(**(error.get("ctx") or {}))
    except (KeyError, IndexError):
        return template


def known(detail: str) -> bool:
    """Whether ``detail`` has its own Swedish (not only the status' sentence)."""
    return swedish(detail) is not None
