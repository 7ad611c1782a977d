"""The configuration activity: a case workflow reads one version of its kommun's configuration.

A workflow cannot read files or the database itself (determinism), and it must not carry the
whole document in every command; so it names a version id and this activity reads the stored
document (``infra.persistence.kommun_config``), verified against that id, once per run.
"""

from __future__ import annotations

from typing import Any

from temporalio import activity

from infra.persistence.kommun_config import UnknownKommunConfig, fetch, verified
from infra.persistence.store import CaseStore
from workflows.messages import KOMMUN_CONFIG_ACTIVITY


class KommunConfigActivities:
    """Activities bound to one event store (constructed once per worker)."""

    def __init__(self, store: CaseStore) -> None:
        self._store = store

    @activity.defn(name=KOMMUN_CONFIG_ACTIVITY)
    def load_kommun_config(self, version: str) -> dict[str, Any]:
        """The document of configuration ``version``. A version not (yet) stored fails the
        attempt and is retried: every sender stores its versions before referencing them."""
        with self._store.pooled_connection() as conn:
            stored = fetch(conn, self._store.schema, version)
        if stored is None:
            raise UnknownKommunConfig(f"no stored kommun configuration {version!r}")
        verified(stored)  # a row whose content is not the one its id names is never used
        return stored.document
