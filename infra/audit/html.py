"""The audit timeline as one self-contained HTML page (inline CSS and SVG, no external assets).

An auditor opens it from a USB stick or an e-mail attachment, often on a locked-down machine
without network access, and may archive it with the audit: so nothing is fetched, no script runs,
and the page shows the same thing in ten years. Everything comes from ``infra.audit.case``'s
document; every value is HTML-escaped (event data is free text from the calling system).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from html import escape
from typing import Any

from domain.calendar import STOCKHOLM, days_between
from domain.rules import EVB_UPPSTOD, FRIST_OVERSKRIDEN, RULES_BY_ID

#: Colours of a frist bar by its status on the as-of date (also the legend).
STATUS_COLOURS = {
    "met": "#2e7d32",
    "missed": "#c62828",
    "open": "#1565c0",
    "overdue": "#ef6c00",
}
STATUS_LABELS = {"met": "uppfylld", "missed": "missad", "open": "öppen", "overdue": "försenad"}
#: The case's stages (``CaseState.stage``) in the words of docs/domain.md.
STAGE_NAMES = {
    "ny": "ny",
    "forhandsbedomning": "förhandsbedömning",
    "utredning": "utredning",
    "beslut": "beslut",
    "insats": "insats",
    "lvu": "vård enligt LVU",
    "uppfoljning": "uppföljning",
    "avslutad": "avslutat",
}
#: The alerts the workflow records when a frist passes, and their withdrawal.
ALERT_NAMES = {
    FRIST_OVERSKRIDEN: "frist överskriden",
    EVB_UPPSTOD: "rapporteringsskyldighet till IVO uppstod",
    "larm_aterkallat": "larm återkallat",
}
STAGE_COLOURS = ("#d7e3fc", "#fde2c8", "#d8f0d2", "#f3d9f7", "#fff3b0", "#d0f0f0", "#eeeeee")

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:24px 0 8px}
.meta{color:#555}.summary{display:flex;gap:24px;flex-wrap:wrap;margin:12px 0}
.summary div{background:#f5f5f5;padding:8px 12px;border-radius:4px}
.summary b{display:block;font-size:16px}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 6px;
text-align:left;vertical-align:top}th{background:#fafafa}
.legend span{display:inline-block;margin-right:14px}.legend i{display:inline-block;width:12px;
height:12px;margin-right:4px;vertical-align:middle}
svg text{font:11px system-ui,sans-serif}
"""

LABEL_W = 190
CHART_W = 760
ROW_H = 22
#: A generous width of one character of the 11 px SVG font, to keep labels apart.
CHAR_W = 7.0
#: Room right of the chart for a due date written after its bar (``YYYY-MM-DD`` + gap).
RIGHT_PAD = 80
#: Height of one label lane (labels that would overlap go to the next lane down).
LANE_H = 13


def render_html(doc: dict[str, Any]) -> str:
    """The whole page for one audit document."""
    title = f"Ärende {doc['kommun']}/{doc['case_ref']}"
    known = f", som barnflow kände det {local_time(doc['known_at'])}" if doc["known_at"] else ""
    nxt = doc["next_frist"]
    child = doc["child"]
    summary = [
        ("Stadium", stage_name(doc["stage"])),
        ("Nästa frist", f"{nxt['due']} ({nxt['rule']} {nxt['name']})" if nxt else "–"),
        ("Försenade frister", str(doc["overdue"])),
        ("Enhet", doc["enhet"] or "–"),
        ("Barn", f"kön {child['kon'] or '–'}, ålder {_or_dash(child['age'])}"),
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="sv"><head><meta charset="utf-8">',
        f"<title>{escape(title)} – revision</title><style>{CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">Som det rättsligen stod {escape(doc["as_of"])}{escape(known)}. '
        f"Case id {escape(doc['case_id'])}. Alla tider i svensk tid (Europe/Stockholm).</p>",
        '<div class="summary">'
        + "".join(f"<div>{escape(k)}<b>{escape(v)}</b></div>" for k, v in summary)
        + "</div>",
        "<h2>Tidslinje</h2>",
        _legend(),
        timeline_svg(doc),
        "<h2>Stadier</h2>",
        _table(
            ("Stadium", "Från", "Till"),
            [(stage_name(s["stage"]), s["from"], s["to"]) for s in doc["stages"]],
        ),
        "<h2>Frister</h2>",
        _table(
            ("Regel", "Frist", "Start", "Förfaller", "Uppfylld", "Status", "Lag", "Paragraf"),
            [
                (
                    f["rule"],
                    f["name"],
                    f["trigger_date"],
                    f["due"],
                    _or_dash(f["fulfilled_date"]),
                    STATUS_LABELS.get(f["status"], f["status"]),
                    f["law"],
                    f["paragraph"],
                )
                for f in doc["frister"]
            ],
        ),
        "<h2>Beslut</h2>",
        _table(
            ("Datum", "Beslut", "Typ", "Lagrum", "Insats", "Delegat", "Av", "Delegation"),
            [
                (
                    b["legal_date"],
                    _or_dash(b["beslut_id"]),
                    _or_dash(b["beslutstyp"]),
                    _or_dash(b["lagrum"]),
                    _or_dash(b["insats"]),
                    _or_dash(b["delegat"]),
                    _actor(b["actor"]),
                    _judgement(b.get("delegation")),
                )
                for b in doc["beslut"]
            ],
        ),
        "<h2>Larm</h2>",
        _table(
            ("Registrerad", "Larm", "Regel", "Frist", "Förfallodag"),
            [
                (local_time(e["recorded_at"]), ALERT_NAMES[e["type"]], *alert_frist(doc, e))
                for e in doc["events"]
                if e["type"] in ALERT_NAMES
            ],
        ),
        "<h2>Vem gjorde vad</h2>",
        _table(
            ("Datum (rättsligt)", "Registrerad", "Position", "Händelse", "Av", "Lag"),
            [
                (
                    e["legal_date"],
                    local_time(e["recorded_at"]),
                    str(e["position"]),
                    _event_text(doc, e),
                    _actor(e["actor"]),
                    e["law"],
                )
                for e in doc["events"]
            ],
        ),
        "<h2>Vem läste ärendet</h2>",
        _table(
            ("Tid", "Vem", "Roll", "Syfte"),
            [(local_time(r["at"]), r["who"], r["role"], r["purpose"]) for r in doc["reads"]],
        ),
        "</body></html>",
    ]
    return "\n".join(parts)


def timeline_svg(doc: dict[str, Any]) -> str:
    """Stages as a band, each frist as a bar from its trigger to its due date, beslut as marks.

    Stage names and the two dates under the chart are placed by ``place_labels``: a stage of a
    few days gets its name in a lane below its neighbour's instead of on top of it."""
    frister = doc["frister"]
    dates = [date.fromisoformat(doc["as_of"])]
    dates += [date.fromisoformat(s["from"]) for s in doc["stages"]]
    for f in frister:
        dates += [date.fromisoformat(f["trigger_date"]), date.fromisoformat(f["due"])]
    start, end = min(dates), max(dates)
    span = max(days_between(start, end), 1)
    right = LABEL_W + CHART_W + RIGHT_PAD

    def x(day: str | date) -> float:
        d = date.fromisoformat(day) if isinstance(day, str) else day
        return LABEL_W + CHART_W * days_between(start, d) / span

    names = [stage_name(s["stage"]) for s in doc["stages"]]
    stage_labels = place_labels(
        [(x(s["from"]) + 3, n) for s, n in zip(doc["stages"], names, strict=True)], right
    )
    band = ROW_H + LANE_H * max((lane for _, lane in stage_labels), default=0)
    top = band - ROW_H  # the frist rows move down by the extra lanes of the stage band
    rows_end = top + ROW_H * (len(frister) + 2)
    foot = [(float(LABEL_W), start.isoformat()), (x(doc["as_of"]) - 40, f"per {doc['as_of']}")]
    foot_labels = place_labels(foot, right)
    height = rows_end + 4 + LANE_H * (1 + max(lane for _, lane in foot_labels)) + 6
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{right}" '
        f'height="{height}" role="img" aria-label="tidslinje">'
    ]
    out.append('<text x="4" y="15">Stadium</text>')
    for i, (s, name) in enumerate(zip(doc["stages"], names, strict=True)):
        x0, x1 = x(s["from"]), x(s["to"])
        colour = STAGE_COLOURS[i % len(STAGE_COLOURS)]
        out.append(
            f'<rect x="{x0:.1f}" y="2" width="{max(x1 - x0, 2):.1f}" height="{band - 4}" '
            f'fill="{colour}"><title>{escape(name)} {s["from"]}–{s["to"]}</title></rect>'
        )
    # the names after every band: a later stage's band must not paint over an earlier name
    for (lx, lane), name in zip(stage_labels, names, strict=True):
        out.append(f'<text x="{lx:.1f}" y="{15 + LANE_H * lane}">{escape(name)}</text>')
    for i, f in enumerate(frister, start=1):
        y = top + i * ROW_H
        colour = STATUS_COLOURS.get(f["status"], "#777")
        x0, x1 = x(f["trigger_date"]), x(f["due"])
        label = f"{f['rule']} {f['name']}"
        label = label if len(label) <= 26 else label[:25] + "…"
        xf = x(f["fulfilled_date"]) if f["fulfilled_date"] else None
        # the due date right of its line, and right of the fulfilment dot of a missed frist
        after = x1 + 3 if xf is None or xf + 6 < x1 + 3 else xf + 6
        due_x = min(after, right - label_width(f["due"]))
        out.append(f'<text x="4" y="{y + 15}">{escape(label)}</text>')
        out.append(
            f'<rect x="{x0:.1f}" y="{y + 4}" width="{max(x1 - x0, 2):.1f}" height="{ROW_H - 8}" '
            f'fill="{colour}" opacity="0.8"><title>{escape(f["name"])}: förfaller {f["due"]}, '
            f"{STATUS_LABELS.get(f['status'], f['status'])}</title></rect>"
            f'<line x1="{x1:.1f}" x2="{x1:.1f}" y1="{y + 1}" y2="{y + ROW_H - 1}" '
            f'stroke="#000" stroke-width="1.5"/>'
            f'<text x="{due_x:.1f}" y="{y + 15}">{f["due"]}</text>'
        )
        if xf is not None:
            out.append(f'<circle cx="{xf:.1f}" cy="{y + ROW_H / 2}" r="4" fill="#000"/>')
    y = top + (len(frister) + 1) * ROW_H
    out.append(f'<text x="4" y="{y + 15}">Beslut</text>')
    for b in doc["beslut"]:
        xb = x(b["legal_date"])
        out.append(
            f'<path d="M{xb:.1f} {y + 3} l6 8 l-6 8 l-6 -8 z" fill="#6a1b9a">'
            f"<title>{escape(str(b['beslutstyp'] or b['type']))} {b['legal_date']}</title></path>"
        )
    xa = x(doc["as_of"])
    out.append(
        f'<line x1="{xa:.1f}" x2="{xa:.1f}" y1="0" y2="{rows_end}" stroke="#c62828" '
        f'stroke-dasharray="4 3"/>'
    )
    for (lx, lane), (_, text) in zip(foot_labels, foot, strict=True):
        out.append(f'<text x="{lx:.1f}" y="{rows_end + 4 + LANE_H * (lane + 1)}">{text}</text>')
    out.append("</svg>")
    return "".join(out)


def local_time(moment: str) -> str:
    """An instant as an auditor reads it: Swedish time to the minute (``2026-03-04 14:05``),
    whatever offset it was stored with (a naive value is UTC, as the store writes it)."""
    parsed = datetime.fromisoformat(moment)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


def stage_name(stage: str) -> str:
    return STAGE_NAMES.get(stage, stage)


def alert_frist(doc: dict[str, Any], event: dict[str, Any]) -> tuple[str, str, str]:
    """Rule id, the rule's Swedish title and the due date of the frist an alert is about.

    ``frist_overskriden`` and ``larm_aterkallat`` carry the rule; an IVO alert carries only the
    beslut and the due date, so its rule (C2, C3 or C4) is the one of the case's frister with
    that subject and due date."""
    data = event["data"]
    due = str(data.get("due") or "–")
    rule_id = data.get("regel")
    if not rule_id:
        rule_id = next(
            (
                f["rule"]
                for f in doc["frister"]
                if f["due"] == due
                and f["subject"] == data.get("beslut_id")
                and RULES_BY_ID[f["rule"]].alert_event == EVB_UPPSTOD
            ),
            None,
        )
    if not rule_id:
        return "–", f"beslut {data.get('beslut_id') or '–'}", due
    known = RULES_BY_ID.get(rule_id)
    return rule_id, known.name if known else "–", due


def _event_text(doc: dict[str, Any], event: dict[str, Any]) -> str:
    if event["type"] not in ALERT_NAMES:
        return str(event["type"])
    rule_id, title, due = alert_frist(doc, event)
    return f"{event['type']}: {rule_id} {title}, förfallodag {due}"


def place_labels(labels: list[tuple[float, str]], right: float) -> list[tuple[float, int]]:
    """Where each label goes so that none overlaps another: ``(x, lane)`` in the given order.

    A label starts at its x (moved left so that it ends before ``right``) in the first lane
    whose labels so far end before it starts; otherwise a new lane below."""
    lanes: list[float] = []  # where the last label of each lane ends
    placed: list[tuple[float, int]] = []
    for wanted, text in labels:
        width = label_width(text)
        at = max(min(wanted, right - width), 0.0)
        lane = next((i for i, end in enumerate(lanes) if end + CHAR_W <= at), len(lanes))
        if lane == len(lanes):
            lanes.append(0.0)
        lanes[lane] = at + width
        placed.append((at, lane))
    return placed


def label_width(text: str) -> float:
    return CHAR_W * len(text)


def _legend() -> str:
    return (
        '<p class="legend">'
        + "".join(
            f'<span><i style="background:{c}"></i>{escape(STATUS_LABELS[s])}</span>'
            for s, c in STATUS_COLOURS.items()
        )
        + "</p>"
    )


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    if not rows:
        return f"<table><tr>{head}</tr><tr><td colspan='{len(headers)}'>–</td></tr></table>"
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _actor(actor: dict[str, str]) -> str:
    return f"{actor['id']} ({actor['roll']})"


def _or_dash(value: object) -> str:
    return "–" if value is None else str(value)


def _judgement(judged: dict[str, Any] | None) -> str:
    """A decision's judgement in one cell: outcome, point and ordning, configuration version."""
    if not judged:
        return "–"
    ordning = judged.get("ordning") or {}
    parts = [str(judged.get("utfall"))]
    if judged.get("punkt"):
        parts.append(f"punkt {judged['punkt']}")
    if ordning.get("version") or ordning.get("giltig_fran"):
        parts.append(f"ordning {ordning.get('version') or ''} från {ordning.get('giltig_fran')}")
    parts.append(f"konfiguration {judged.get('kommun_config') or '–'}")
    return ", ".join(parts)
