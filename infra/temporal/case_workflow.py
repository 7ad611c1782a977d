"""The workflow id of a stored case, also once gallring destroyed the child's identity.

A case workflow's id is ``barnarende-<kommun>-<pseudonym>``: the keyed pseudonym of the identity
the case's opening event names (personnummer, else tillfälligt id; ``child_pseudonym``). Gallring
(``infra.ops.gallring``, docs/law.md §10) destroys that identity, so the pseudonym can no longer
be computed: a caller that computes it anyway gets the pseudonym of a missing identity ("None"),
one id shared by every gallrad child of the kommun and never the case's workflow. Before
destroying the identity, gallring records which cases belong to the workflow's key
(``WorkflowKeys.link``); that link is then the only way from the case to its workflow.

Every place that needs a stored case's workflow id asks ``stored_workflow_id``: the pseudonym of
the identity while it is readable (the same id the link names: gallring computed the link from
it), else the linked id, else ``None`` so the caller says "no workflow id" instead of comparing
against a wrong workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

from domain.identity import pseudonym
from domain.ids import workflow_id_for
from domain.sealing import SEALED, SHREDDED
from infra.persistence.store import CaseStore

#: Case id -> workflow id as gallring linked them (``WorkflowKeys.linked_cases``).
Links = Mapping[UUID, str]


def child_identity(data: Mapping[str, Any]) -> str | None:
    """The identity a case's opening event names (personnummer, else tillfälligt id), or
    ``None`` when it names none that can be read (gallrad, or still sealed)."""
    barn = data.get("barn")
    if not isinstance(barn, dict):
        return None
    ident = barn.get("personnummer") or barn.get("tillfalligt_id")
    if not ident or ident in (SHREDDED, SEALED):
        return None
    return str(ident)


def stored_workflow_id(
    case_id: UUID, kommun: str, opening_data: Mapping[str, Any], pseudonym_key: bytes, links: Links
) -> str | None:
    """The workflow id of the stored case ``case_id`` (``opening_data``: its opening event's
    data): the pseudonym of its child's identity, else the id gallring linked to the case,
    else ``None`` (no identity and no link: no workflow id can be named)."""
    ident = child_identity(opening_data)
    if ident is not None:
        return workflow_id_for(kommun, pseudonym(pseudonym_key, kommun, ident))
    return links.get(case_id)


def all_links(store: CaseStore) -> dict[UUID, str]:
    """Every case gallring linked to a workflow key (one SELECT), for callers of many cases."""
    wkeys = store.workflow_keys
    return wkeys.linked_cases() if wkeys is not None else {}


def links_of(store: CaseStore, case_id: UUID) -> dict[UUID, str]:
    """The link of one case (one SELECT on that case), for callers of one case."""
    wkeys = store.workflow_keys
    if wkeys is None:
        return {}
    rows = wkeys.rows(case_id=str(case_id))
    return {case_id: rows[-1].workflow_id} if rows else {}
