"""The chaos suite's load generator: case lifecycles over the HTTP API, retried like a real
calling system would (same idempotency key, backoff, honouring Retry-After) until each command
gets a definite answer. It remembers every command the API accepted, so the invariants can be
checked against the store afterwards."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from domain.calendar import STOCKHOLM, legal_date, start_of_day
from domain.identity import luhn_check_digit

RETRYABLE = {429, 500, 502, 503, 504}


@dataclass
class LoadStats:
    accepted: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (kommun, ref)
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    retries: int = 0
    gave_up: list[str] = field(default_factory=list)
    status_counts: dict[int, int] = field(default_factory=dict)


def pnr(i: int, salt: int) -> str:
    n = i + salt * 100_000
    nine = (
        f"1{n // 28 // 12 % 10}{1 + n // 28 % 12:02d}{1 + n % 28:02d}{(n // 3360) % 900 + 100:03d}"
    )
    return f"20{nine}{luhn_check_digit(nine)}"


def _midnight(now: datetime) -> datetime:
    return start_of_day(legal_date(now))


def case_commands(i: int, salt: int, now: datetime) -> list[dict[str, Any]]:
    """One case: most run the full lifecycle; every fourth is backdated and left waiting for its
    förhandsbedömning (so its A2 frist must fire exactly once)."""
    ref = f"CH-{salt}-{i:05d}"
    late = i % 4 == 3
    # a fresh case is dated on today's legal date, never yesterday's (A1 would be late)
    start = now - timedelta(days=20) if late else max(now - timedelta(minutes=5), _midnight(now))

    def ev(etype: str, data: dict[str, Any], at: datetime = start) -> dict[str, Any]:
        return {
            "kommun": "1280",
            "case_ref": ref,
            "type": etype,
            "occurred_at": at.astimezone(STOCKHOLM).isoformat(),
            "actor": {"id": "chaos", "roll": "socialsekreterare"},
            "idempotency_key": f"{ref}:{etype}",
            "data": data,
        }

    barn = {"personnummer": pnr(i, salt), "kon": "pojke" if i % 2 else "flicka"}
    out = [
        ev("anmalan_mottagen", {"anmalan_id": "a1", "barn": barn, "anmalare_kategori": "skola"}),
        ev("skyddsbedomning_gjord", {"anmalan_id": "a1", "omedelbart_skydd": False}),
    ]
    if late:
        return out
    return [
        *out,
        ev("forhandsbedomning_beslutad", {"anmalan_id": "a1", "beslut": "inleda_utredning"}),
        ev("utredning_inledd", {"utredning_id": "u1", "grund": "anmalan", "anmalan_id": "a1"}),
        ev("utredning_avslutad", {"utredning_id": "u1", "utfall": "insats"}),
        ev(
            "beslut_fattat",
            {
                "beslut_id": "b1",
                "lagrum": "SoL 11:1",
                "beslutstyp": "insats",
                "insats": "oppenvard",
                "gynnande": True,
                "delegat": {"id": "d1", "roll": "sektionschef"},
            },
        ),
        ev("insats_verkstalld", {"beslut_id": "b1"}),
        ev("beslut_avslutat", {"beslut_id": "b1", "orsak": "mal_uppnatt"}),
        ev("arende_avslutat", {"orsak": "klart"}),
    ]


async def send(
    client: httpx.AsyncClient, event: dict[str, Any], stats: LoadStats, *, deadline: float
) -> None:
    """POST one command until it is accepted or definitely rejected (or the deadline passes)."""
    loop = asyncio.get_running_loop()
    delay = 0.2
    while True:
        try:
            resp = await client.post("/commands", json=event)
            status = resp.status_code
        except httpx.HTTPError:
            status = 0  # connection refused/reset: the API or a server behind it restarting
        stats.status_counts[status] = stats.status_counts.get(status, 0) + 1
        if status in (200, 201):
            stats.accepted[event["idempotency_key"]] = (event["kommun"], event["case_ref"])
            return
        if status and status not in RETRYABLE:
            stats.rejected.append((event["idempotency_key"], status, resp.text[:300]))
            return
        if loop.time() > deadline:
            stats.gave_up.append(event["idempotency_key"])
            return
        stats.retries += 1
        retry_after = 0.0
        if status:
            with_header = resp.headers.get("retry-after")
            retry_after = float(with_header) if with_header and with_header.isdigit() else 0.0
        await asyncio.sleep(max(retry_after, delay) * (0.5 + random.random()))
        delay = min(delay * 2, 5.0)


async def drive(
    api_url: str, token: str, cases: int, *, concurrency: int, salt: int, budget: float
) -> LoadStats:
    """Drive ``cases`` lifecycles with at most ``concurrency`` cases in flight."""
    stats = LoadStats()
    gate = asyncio.Semaphore(concurrency)
    now = datetime.now(UTC)
    deadline = asyncio.get_running_loop().time() + budget
    headers = {"Authorization": f"Bearer {token}", "X-Barnflow-Purpose": "chaos"}
    async with httpx.AsyncClient(base_url=api_url, headers=headers, timeout=30) as client:

        async def one(i: int) -> None:
            async with gate:
                for event in case_commands(i, salt, now):
                    await send(client, event, stats, deadline=deadline)
                    if event["idempotency_key"] not in stats.accepted:
                        return  # a definite rejection or the deadline: stop this case

        await asyncio.gather(*(one(i) for i in range(cases)))
    return stats
