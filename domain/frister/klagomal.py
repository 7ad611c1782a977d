"""K1: a klagomål answered within the kommun's own number of days (docs/law.md §3).

Not statutory: a lokal regel, the kommun's guideline for complaints (policy ``klagomal.dagar``).
"""

from __future__ import annotations

from domain.frister.context import Ctx, consume, emit_from, field_is_or_unset, subject_of
from domain.rules import rule


def frister(ctx: Ctx) -> None:
    """K1 per klagomål, met by the first unclaimed answer about it (or about none in particular)."""
    r, days = rule("K1"), ctx.policy.klagomal_dagar
    for i, ev in ctx.triggers(r):
        subject = subject_of(ev, "klagomal_id")
        done = consume(
            ctx,
            "K1",
            i,
            r.fulfilled_by,
            field_is_or_unset("klagomal_id", ev.data.get("klagomal_id")),
        )
        emit_from(
            ctx,
            r,
            ev,
            f"K1:{subject}",
            subject=subject,
            done=done,
            length=days,
            notes=(f"{days} dagar (kommun-policy)",),
        )
