"""The event that names a case's child, as ``send_command`` finds it: read from the store once
per case, yet a case that did not exist when first asked about is found once it is opened."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.events import parse_event
from infra.persistence.store import CaseStore
from infra.temporal.commands import CommandRejected, opening_event
from tests.factories import anmalan, fresh_pnr, line


def test_a_case_opened_after_a_rejected_command_is_found(store: CaseStore) -> None:
    at = datetime.now(UTC) - timedelta(minutes=5)
    ref = "VS-OPENING"
    step = parse_event(
        line(
            "skyddsbedomning_gjord",
            {"anmalan_id": "a-1", "omedelbart_skydd": False},
            at=at,
            key=f"{ref}-2",
            case_ref=ref,
        )
    )
    with pytest.raises(CommandRejected, match="P-OPEN"):
        opening_event(step, store)  # no such case yet: rejected, and not remembered as missing

    opening = parse_event(anmalan(at, case_ref=ref, pnr=fresh_pnr(), key=f"{ref}-1"))
    store.record(opening)
    found = opening_event(step, store)
    assert found.idempotency_key == opening.idempotency_key and found.position == 1

    # a later anmälan of the same case still names the child the case was opened with
    later = parse_event(anmalan(at, case_ref=ref, pnr=fresh_pnr(), key=f"{ref}-3"))
    assert opening_event(later, store) == found
