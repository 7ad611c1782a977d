"""The quarterly page: gather the sections from the views, write one self-contained HTML file.

Self-contained: the stylesheet is inline and every chart is an ``<img>`` with an SVG data URI
(no script, no font, no request), so the file can be mailed, archived with the nämnd's
protocol, opened offline and printed the same way; a data URI also keeps each chart's SVG ids
to itself. The header names the kommun, the period, the as-of date (the period's last day) and
the known-at time.

Only aggregates are shown (no case, no pseudo-id): the page goes into a nämnd's handlingar. The
documents the figures come from are masked as every report is (POL-SKYDD-RAPPORT).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape

from projections.kvartal.model import Context, Section, SectionBuilder, Table
from projections.kvartal.sections import SECTIONS
from projections.periods import Period
from projections.reports import kvalitet_events, many
from projections.view import ReportsView

TITLE = "Kvartalsrapport till nämnden: barn och unga"


@dataclass(frozen=True)
class Page:
    kommun: str
    period: Period
    known_at: datetime | None
    #: the views' position the figures were read at (``None``: not known to the caller)
    position: int | None
    sections: tuple[Section, ...]


def build_page(
    source: ReportsView | Mapping[str, str],
    kommun: str,
    period: Period,
    *,
    known_at: datetime | None = None,
    position: int | None = None,
    sections: tuple[SectionBuilder, ...] = SECTIONS,
) -> Page:
    """Every section of ``sections`` for ``kommun`` and ``period`` as known at ``known_at``
    (``source``: the views, or the environment to open them from, as ``ReportSpec.build``)."""
    records = kvalitet_events(source, kommun)  # before the views' transaction opens
    with many(source, kommun, known_at=known_at, records=records) as reports:
        ctx = Context(reports, kommun, period, known_at)
        built = tuple(build(ctx) for build in sections)
    return Page(kommun, period, known_at, position, built)


CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt;
       color: #1a1a1a; margin: 0 auto; max-width: 190mm; }
header { border-bottom: 2px solid #0072B2; margin-bottom: 8pt; }
h1 { font-size: 16pt; margin: 0 0 4pt; }
dl.meta { display: grid; grid-template-columns: max-content auto; gap: 1pt 10pt; margin: 4pt 0; }
dl.meta dt { font-weight: bold; } dl.meta dd { margin: 0; }
section { margin: 14pt 0; }
h2 { font-size: 13pt; margin: 0 0 2pt; color: #0b3c5d; break-after: avoid; }
p.lead { break-after: avoid; }
img.chart, table { break-inside: avoid; }
p.lead { margin: 0 0 4pt; }
img.chart { width: 100%; height: auto; display: block; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 2pt; font-size: 8.5pt; }
caption { text-align: left; font-weight: bold; padding: 2pt 0; }
th, td { border-bottom: 1px solid #ccc; padding: 1.5pt 4pt; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 1.5px solid #555; }
p.source { font-size: 7.5pt; color: #555; margin: 0 0 6pt; font-family: "DejaVu Sans Mono",
           monospace; }
footer { font-size: 8pt; color: #555; border-top: 1px solid #ccc; margin-top: 12pt; }
"""


def _table(t: Table) -> str:
    head = "".join(f'<th scope="col">{escape(c)}</th>' for c in t.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in t.rows
    )
    if not t.rows:
        body = f'<tr><td colspan="{len(t.columns)}">Inga under perioden</td></tr>'
    return (
        f"<table><caption>{escape(t.caption)}</caption><thead><tr>{head}</tr></thead>"
        f'<tbody>{body}</tbody></table><p class="source">Källa: {escape(t.source)}</p>'
    )


def _section(s: Section) -> str:
    uri = "data:image/svg+xml;base64," + base64.b64encode(s.chart.svg).decode("ascii")
    return (
        f'<section id="{escape(s.key)}"><h2>{escape(s.title)}</h2>'
        f'<p class="lead">{escape(s.lead)}</p>'
        f'<img class="chart" src="{uri}" alt="{escape(s.chart.alt)}">'
        + "".join(_table(t) for t in s.tables)
        + "</section>"
    )


def header_fields(page: Page) -> list[tuple[str, str]]:
    """The header's fields in order: what a reader checks first."""
    p = page.period
    known = (
        page.known_at.isoformat()
        if page.known_at is not None
        else "allt som registrerats när rapporten togs fram"
        + (f" (position {page.position})" if page.position is not None else "")
    )
    return [
        ("Kommun", page.kommun),
        ("Period", f"{p.label} ({p.start.isoformat()} – {p.end.isoformat()})"),
        ("Per datum", p.end.isoformat()),
        ("Känt per", known),
    ]


def render_html(page: Page) -> str:
    """The page as one HTML document (UTF-8, no external reference)."""
    meta = "".join(f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in header_fields(page))
    p = page.period
    return (
        '<!DOCTYPE html>\n<html lang="sv"><head><meta charset="utf-8">'
        f"<title>{escape(TITLE)} {escape(page.kommun)} {escape(p.label)}</title>"
        f"<style>{CSS}</style></head><body>"
        f'<header><h1>{escape(TITLE)}</h1><dl class="meta">{meta}</dl></header>'
        + "".join(_section(s) for s in page.sections)
        + "<footer><p>Alla siffror är kommunens rapporter ur barnflow för samma period (raden "
        "Källa under varje tabell skriver ut samma tal). Sidan visar bara sammanräknade tal "
        "per kön, enhet eller insatstyp, inga enskilda ärenden; skyddade ärenden maskeras som i "
        "alla rapporter. Datum är kalenderdagar i Europe/Stockholm.</p></footer>"
        "</body></html>\n"
    )
