"""H2 and H4: a request to move the ärende to another kommun, and IVO's decision when the
kommuner do not agree (SoL 2025:400 29 kap. 10-11 §§; old SoL 2 a kap. 10-11 §§; docs/law.md §3).

H2: the other kommun answers "genast" (29:10; old "utan dröjsmål"); without an answer within a
month the requesting kommun may apply to IVO (29:11 first st.), so the frist is one month. H4:
IVO decides within three months of the application unless there are särskilda skäl (29:11
second st.): IVO's period, alerted to the kommun that waits for it.
"""

from __future__ import annotations

from domain.frister.context import Ctx, any_event, emit_from
from domain.rules import rule


def frister(ctx: Ctx) -> None:
    """H2 per request, met by the first answer after it; H4 per IVO application, met by IVO's
    decision after it (one request or application is open at a time: P-OVERFLYTTNING)."""
    for rule_id in ("H2", "H4"):
        r = rule(rule_id)
        for i, ev in ctx.triggers(r):
            subject = str(ev.data.get("till_kommun", "ivo"))
            emit_from(
                ctx,
                r,
                ev,
                f"{rule_id}:{subject}:{ev.legal_date.isoformat()}",
                subject=subject,
                done=ctx.find(i + 1, r.fulfilled_by, any_event),
            )
