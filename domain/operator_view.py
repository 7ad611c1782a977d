"""What an operator sees of a case at the top of the Temporal Web UI's workflow page.

Temporal shows a workflow's *user metadata* (the static summary given when a run starts, and the
current-details line the workflow sets) above its history. Those payloads are left readable by
the payload codec (``infra.temporal.codec``), so they may hold only what the plaintext search
attributes already hold (``workflows.search``): kommun, enhet, stage, and the child's keyed
pseudonym that the workflow id already carries. Never identity, never case content; and a case
with skyddade personuppgifter (``domain.protection``) shows no enhet, which could point to where
a protected child is. Pure: the starters (``infra.temporal.commands``) and the workflow ask it.
"""

from __future__ import annotations

from typing import Final

from domain.case import CaseState

#: How many characters of the pseudonym the summary shows (the workflow id has all 24).
PSEUDONYM_SHOWN: Final = 8


class OperatorText(str):
    """A text written for operators from operator-visible facts only.

    The type is the mark the data converter looks for (``infra.temporal.operator_payloads``):
    a payload made from an ``OperatorText`` is left readable by the encryption codec. Only this
    module builds one."""

    __slots__ = ()


def summary(kommun: str, child_pseudonym: str, state: CaseState) -> OperatorText:
    """The one-line static summary of a run: kommun, pseudonym prefix, enhet (unless protected)
    and the stage the run started in (the current details line follows the stage from then on).
    """
    parts = [f"barnärende {kommun}-{child_pseudonym[:PSEUDONYM_SHOWN]}"]
    enhet = unit(state)
    if enhet:
        parts.append(f"enhet {enhet}")
    parts.append(f"steg vid start: {state.stage}")
    return OperatorText(" · ".join(parts))


def unit(state: CaseState) -> str:
    """The enhet an operator may see: none for a case with skyddade personuppgifter."""
    return "" if state.protected else state.enhet or ""


def details_footer(state: CaseState) -> str:
    """The second line of the current details: the stage now and the enhet (unless
    protected), so a run continued-as-new (which carries no static summary) still says them."""
    enhet = unit(state)
    return f"steg: {state.stage}" + (f" · enhet {enhet}" if enhet else "")
