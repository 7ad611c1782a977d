"""The operator's list queries: the common questions asked of Temporal's visibility store.

Each query reads only the plaintext search attributes a case workflow publishes
(``workflows.search``) and Temporal's own ``ExecutionStatus``, so the answer needs no codec
server and shows no identity. docs/operations.md, "List queries", prints every entry (a test
keeps it equal to this table) and says which columns to show in the Web UI; each is tested
against a dev server (tests/ops/test_list_queries.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from workflows import search

#: Every list starts from the open cases of one kommun.
_OPEN: Final = f"ExecutionStatus = 'Running' AND {search.KOMMUN.name} = '{{kommun}}'"


@dataclass(frozen=True)
class ListQuery:
    """One question (in Swedish and English) and its visibility query, with ``{placeholders}``."""

    name: str
    sv: str
    en: str
    template: str

    def render(self, **values: str) -> str:
        """The query with its placeholders filled; a value that could end the quoted string
        (a quote, a backslash) or is empty is refused, naming the placeholder."""
        for key, value in values.items():
            if not value or not _SAFE.fullmatch(value):
                raise ValueError(f"{key}: {value!r} is not a value a list query can quote")
        return self.template.format(**values)


_SAFE: Final = re.compile(r"[^'\"\\\n\r]+")

QUERIES: Final = (
    ListQuery(
        "open",
        "Kommunens öppna ärenden",
        "the kommun's open cases",
        _OPEN,
    ),
    ListQuery(
        "overdue",
        "Ärenden med en passerad frist",
        "cases with a frist past due",
        f"{_OPEN} AND {search.OVERDUE.name} = true",
    ),
    ListQuery(
        "overdue-in-unit",
        "En enhets ärenden med en passerad frist",
        "one unit's cases with a frist past due",
        f"{_OPEN} AND {search.ENHET.name} = '{{enhet}}' AND {search.OVERDUE.name} = true",
    ),
    ListQuery(
        "open-evb",
        "Ärenden med ej verkställda gynnande beslut (EVB)",
        "cases with gynnande beslut not verkställda in time (EVB)",
        f"{_OPEN} AND {search.OPEN_EVB.name} > 0",
    ),
    ListQuery(
        "stage",
        "Ärenden i ett steg (t.ex. utredning)",
        "cases in one stage (e.g. utredning)",
        f"{_OPEN} AND {search.STAGE.name} = '{{stage}}'",
    ),
    ListQuery(
        "due-before",
        "Ärenden vars nästa frist förfaller före en dag",
        "cases whose next frist is due before a date",
        f"{_OPEN} AND {search.NEXT_DUE.name} < '{{before}}'",
    ),
)

#: The Web UI columns that answer the questions at a glance (the list's "Configure columns").
COLUMNS: Final = (
    search.STAGE.name,
    search.ENHET.name,
    search.NEXT_DUE.name,
    search.OVERDUE.name,
    search.OPEN_EVB.name,
)


def query(name: str) -> ListQuery:
    """The list query called ``name`` (``KeyError`` naming the known ones otherwise)."""
    for q in QUERIES:
        if q.name == name:
            return q
    raise KeyError(f"no list query {name!r}; known: {', '.join(q.name for q in QUERIES)}")
