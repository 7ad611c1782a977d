"""Stable identifiers derived from non-identifying keys.

A case's id is derived from (kommun, case_ref) so every entry point (workflow, import, API) finds
the same stream without a lookup. A workflow id is derived from the child's keyed pseudonym, never
from the personnummer, because workflow ids are stored and shown in plaintext by Temporal.
"""

from __future__ import annotations

import functools
import uuid

_NAMESPACE = uuid.UUID("6f0f5d8e-2b7c-4c39-9a55-6a7b1e0c4b21")


@functools.lru_cache(maxsize=16_384)
def case_id_for(kommun: str, case_ref: str) -> uuid.UUID:
    """The case's stream id (a pure function of its two keys: remembered for the cases seen
    most recently, since an import asks for it several times per line; 16,384 cases, about
    5 MB, cover an import batch many times over and bound what a long-running worker keeps)."""
    return uuid.uuid5(_NAMESPACE, f"{kommun}/{case_ref}")


def workflow_id_for(kommun: str, child_pseudonym: str) -> str:
    return f"barnarende-{kommun}-{child_pseudonym}"
