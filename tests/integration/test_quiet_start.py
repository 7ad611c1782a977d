"""A second start against an existing store sends PostgreSQL no statement it must refuse: the
stored-event type is not created again (eventsourcing swallows the refusal, but the server logs
"type … already exists" as an ERROR on every start of every process)."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from infra.persistence.store import CaseStore, eventsourcing_env
from tests.conftest import CIPHER_KEY


def test_a_second_start_creates_no_existing_type(
    pg_url: str, schema: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    CaseStore(env=env).close()  # the first start creates the tables and the type
    sent: list[str] = []
    execute = psycopg.Cursor.execute

    def spy(self: psycopg.Cursor[Any], query: Any, *args: Any, **kwargs: Any) -> Any:
        text = query if isinstance(query, str) else query.as_string(self)
        sent.append(text)
        return execute(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", spy)
    CaseStore(env=env).close()
    assert sent, "the spy saw no statement: it watches the wrong cursor"
    assert [s for s in sent if "CREATE TYPE" in s] == []
    assert any("CREATE TABLE IF NOT EXISTS" in s for s in sent)  # the rest still runs
