"""A process keeps a case's first event (it names the child) no longer than it keeps the case's
data keys: once gallring destroyed the identity in another process, a long-running API or worker
must not go on holding the personnummer (infra/persistence/datakeys.py ``CACHE_SECONDS``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.events import CaseEvent, parse_event
from infra.persistence.datakeys import CACHE_SECONDS
from infra.persistence.store import FirstEvents
from tests.factories import PNR_GIRL, line


def test_a_cached_first_event_is_read_again_after_the_key_cache_time_and_when_forgotten() -> None:
    now = [1000.0]
    reads: list[uuid.UUID] = []
    opening = parse_event(
        line(
            "anmalan_mottagen",
            {"anmalan_id": "a1", "barn": {"personnummer": PNR_GIRL, "kon": "flicka"},
             "anmalare_kategori": "skola"},
            at=datetime(2026, 11, 2, 10, tzinfo=UTC), key="first-event-cache-1",
        )
    )  # fmt: skip

    def read(case_id: uuid.UUID) -> CaseEvent:
        reads.append(case_id)
        return opening

    cache = FirstEvents(read, size=10, clock=lambda: now[0])
    case = uuid.uuid4()
    assert cache(case) is opening and cache(case) is opening and len(reads) == 1
    assert cache.peek(case) is opening
    now[0] += CACHE_SECONDS + 0.1
    assert cache.peek(case) is None  # expired: held no longer than the keys
    cache(case)
    assert len(reads) == 2
    other = uuid.uuid4()
    cache(other)
    now[0] += CACHE_SECONDS + 0.1
    cache(uuid.uuid4())  # any read drops what expired, also cases nobody asks for again
    assert case not in cache._items and other not in cache._items
    cache(case)
    cache.forget(case)  # gallring in this process
    assert cache.peek(case) is None
    cache(case)
    assert len(reads) == 6
