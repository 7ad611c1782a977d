"""C2-C4: gynnande beslut not verkställda, reported to IVO (docs/law.md §3, docs/domain.md §5.2).

C2, a gynnande beslut not verkställt within three months of the decision (SoL 2025:400 34 kap.
1 § första st.; SoL 2001:453 16 kap. 6 f § första st.); C3, an avbrott not resumed within three
months (34 kap. 1 § andra st.; 16 kap. 6 f § andra st.); C4, the report once per quarter while
the duty runs, due at the end of IVO's reporting window (34 kap. 1 § tredje st., 2 §; 16 kap.
6 f § tredje st., 6 g §). The windows themselves (``ivo_window``) are read by the projections
too, so the frister and the EVB report cannot place a quarter differently.
"""

from __future__ import annotations

from datetime import date

from domain.calendar import add_days
from domain.events import CaseEvent, stored_kvartal
from domain.frister.context import Ctx, emit, emit_from, field_is
from domain.rules import rule


def frister(ctx: Ctx) -> None:
    """C2 per gynnande beslut with an insats, C3 per avbrott, then C4 per reporting quarter."""
    duties: dict[str, list[tuple[date, date | None]]] = {}
    c2 = rule("C2")
    for bid, (i, ev) in ctx.beslut.items():
        if ev.data.get("gynnande") is not True or not ev.data.get("insats"):
            continue
        if bid in ctx.decided_elsewhere:  # the deciding kommun reports it (POL-OVERFLYTTNING-EVB)
            continue
        done = ctx.find(i, c2.fulfilled_by, field_is("beslut_id", bid))
        f = emit_from(ctx, c2, ev, f"C2:{bid}", subject=bid, done=done)
        if f is not None:
            duties.setdefault(bid, []).append((f.due, f.fulfilled_date))
    c3 = rule("C3")
    for i, ev in ctx.triggers(c3):
        bid, trig = str(ev.data["beslut_id"]), ev.legal_date
        if bid in ctx.decided_elsewhere:
            continue
        done = ctx.find(i + 1, c3.fulfilled_by, field_is("beslut_id", bid))
        f = emit_from(ctx, c3, ev, f"C3:{bid}:{trig.isoformat()}", subject=bid, done=done)
        if f is not None:
            duties.setdefault(bid, []).append((f.due, f.fulfilled_date))
    for bid, spans in duties.items():
        _c4(ctx, bid, ctx.beslut.get(bid), spans)


def _quarter(day: date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def _next_quarter(q: tuple[int, int]) -> tuple[int, int]:
    return (q[0] + 1, 1) if q[1] == 4 else (q[0], q[1] + 1)


def ivo_window(year: int, quarter: int) -> tuple[date, date]:
    """IVO's reporting window for a quarter's EVB report (docs/domain.md §5.2): Q1 in April,
    Q2 in July–August, Q3 in October, Q4 in January of the next year."""
    if quarter == 4:
        return date(year + 1, 1, 1), date(year + 1, 1, 31)
    (sm, sd), (em, ed) = {1: ((4, 1), (4, 30)), 2: ((7, 1), (8, 31)), 3: ((10, 1), (10, 31))}[
        quarter
    ]
    return date(year, sm, sd), date(year, em, ed)


def ivo_window_of(day: date) -> tuple[date, date]:
    """IVO's reporting window for the EVB report of the quarter that contains ``day``."""
    return ivo_window(*_quarter(day))


def _window_end(q: tuple[int, int]) -> date:
    """Last day of IVO's reporting window for quarter ``q``."""
    return ivo_window(*q)[1]


def _c4(
    ctx: Ctx,
    bid: str,
    origin: tuple[int, CaseEvent] | None,
    spans: list[tuple[date, date | None]],
) -> None:
    """One C4 frist per quarter in which a report duty (C2/C3 missed) was running."""
    quarters: dict[tuple[int, int], date] = {}
    for due, fulfilled in spans:
        if fulfilled is not None and fulfilled <= due:
            continue
        start = add_days(due, 1)
        end = fulfilled if fulfilled is not None else ctx.horizon
        q = _quarter(start)
        while start <= end and q <= _quarter(end):
            qstart = date(q[0], 3 * q[1] - 2, 1)
            quarters[q] = min(quarters.get(q, max(qstart, start)), max(qstart, start))
            q = _next_quarter(q)
    r = rule("C4")
    reports = ctx.of_type("evb_rapporterad")
    for q, trig in sorted(quarters.items()):
        label = f"{q[0]}Q{q[1]}"
        done = [
            e.legal_date
            for _, e in reports
            if e.data.get("beslut_id") == bid and stored_kvartal(e.data.get("kvartal")) == label
        ]
        ev = origin[1] if origin else ctx.evs[0]
        emit(
            ctx,
            r,
            ev,
            f"C4:{bid}:{label}",
            subject=bid,
            trig=trig,
            due=_window_end(q),
            fulfilled=done[0] if done else None,
            trigger_type="evb_rapporteringsskyldighet_uppstod",
            notes=(f"rapportkvartal {label}",),
            period=f"IVO:s rapportfönster för {label} ({_window_text(q)})",
        )


def _window_text(q: tuple[int, int]) -> str:
    start, end = ivo_window(*q)
    return f"{start.day}/{start.month}-{end.day}/{end.month}"
