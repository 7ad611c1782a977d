"""Webhooks: a loopback receiver that fails its first deliveries still gets every subscribed
event exactly once after de-duplication by position, signed, with failures in the delivery log."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson
import pytest

from activities.webhooks import signature
from infra.temporal.devserver import free_port
from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref
from tests.helpers import eventually


class Receiver:
    """Answers 500 to its first ``failures`` requests, then 204; records what it accepted."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.requests = 0
        self.accepted: list[tuple[dict[str, str], bytes]] = []
        self.lock = threading.Lock()


@contextmanager
def receiving(failures: int) -> Iterator[tuple[Receiver, str]]:
    """A webhook receiver on loopback (its own thread), stopped on exit."""
    state = Receiver(failures=failures)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.requests += 1
                fail = state.requests <= state.failures
                if not fail:
                    state.accepted.append((dict(self.headers), body))
            self.send_response(500 if fail else 204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    with receiving(failures=3) as got:
        yield got


def _positions(state: Receiver, refs: set[str]) -> dict[str, set[int]]:
    """Positions received per case_ref (de-duplicated, as a receiver would), either format."""
    out: dict[str, set[int]] = {}
    with state.lock:
        for _, body in state.accepted:
            payload = orjson.loads(body)
            if "specversion" in payload:  # a CloudEvent (the default format)
                ref, position = payload["subject"], int(payload["id"])
            else:  # the deprecated barnflow-v1 body
                ref, position = payload["event"]["case_ref"], payload["position"]
            if ref in refs:
                out.setdefault(ref, set()).add(position)
    return out


async def test_failing_receiver_gets_every_event_once_after_dedup(
    http: httpx.AsyncClient, token: Token, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    types = ["anmalan_mottagen", "skyddsbedomning_gjord", "arende_avslutat"]
    sub = await http.post(
        "/webhooks",
        json={"url": url, "event_types": types, "format": "barnflow-v1"},
        headers=token("system"),
    )
    assert sub.status_code == 201, sub.text
    sub_id, secret = sub.json()["id"], sub.json()["secret"]
    ref = new_ref()
    steps = lifecycle(ref, new_pnr())
    sent = []
    for step in steps:
        r = await http.post("/commands", json=step, headers=token("system"))
        assert r.status_code == 201, r.text
        if step["type"] in types:
            sent.append(r.json()["position"])

    def received() -> list[int]:
        with state.lock:
            got = {
                orjson.loads(b)["position"]
                for _, b in state.accepted
                if orjson.loads(b)["event"]["case_ref"] == ref
            }
        return sorted(got) if set(sent) <= got else []

    assert await eventually(received, timeout=30) == sorted(sent)
    for headers, body in state.accepted:
        assert headers["X-Barnflow-Signature"] == signature(
            secret, headers["X-Barnflow-Timestamp"], body
        )
        assert headers["X-Barnflow-Position"] == str(orjson.loads(body)["position"])
    log = (await http.get(f"/webhooks/{sub_id}/deliveries", headers=token("operator"))).json()
    assert [d["status_code"] for d in log if not d["delivered"]] == [500, 500, 500]
    assert sorted(d["position"] for d in log if d["delivered"]) == sorted(sent)
    gone = await http.delete(f"/webhooks/{sub_id}", headers=token("system"))
    assert gone.status_code == 204


async def test_a_unit_bound_subscription_gets_only_its_units_cases_and_is_access_logged(
    http: httpx.AsyncClient, token: Token
) -> None:
    east = token("system", units=("barn-ost",), subject="vs-ost")
    types = ["anmalan_mottagen", "skyddsbedomning_gjord"]
    with receiving(failures=0) as (state, url):
        narrower = {"url": url, "event_types": types, "units": ["barn-vast"]}
        outside = await http.post("/webhooks", json=narrower, headers=east)
        assert outside.status_code == 403 and outside.json()["field"] == "units"
        sub = await http.post(
            "/webhooks",
            json={"url": url, "event_types": types, "format": "barnflow-v1"},
            headers=east,
        )
        assert sub.status_code == 201, sub.text
        sub_id = sub.json()["id"]
        assert sub.json()["units"] == ["barn-ost"]  # bound to the caller's units by default

        mine, theirs = new_ref(), new_ref()
        for ref, enhet in ((theirs, "barn-vast"), (mine, "barn-ost")):  # theirs first
            for step in lifecycle(ref, new_pnr(), enhet=enhet)[:2]:
                r = await http.post("/commands", json=step, headers=token("system"))
                assert r.status_code == 201, r.text

        def both_of_mine() -> bool:
            return len(_positions(state, {mine}).get(mine, set())) == 2

        await eventually(both_of_mine, timeout=30)
        # the other unit's case was stored before ours, so the dispatcher has judged it already
        assert theirs not in _positions(state, {mine, theirs})

    west = token("system", units=("barn-vast",))
    assert sub_id not in {w["id"] for w in (await http.get("/webhooks", headers=west)).json()}
    hidden = await http.get(f"/webhooks/{sub_id}/deliveries", headers=west)
    assert hidden.status_code == 404
    assert (await http.delete(f"/webhooks/{sub_id}", headers=west)).status_code == 404
    listed = (await http.get("/webhooks", headers=token("auditor"))).json()
    assert sub_id in {w["id"] for w in listed}  # auditors see the whole kommun

    timeline = await http.get(f"/cases/1280/{mine}/timeline", headers=token("auditor"))
    reads = timeline.json()["reads"]
    assert {(r["who"], r["purpose"]) for r in reads} >= {("vs-ost", f"webhook {sub_id}")}
    assert (await http.delete(f"/webhooks/{sub_id}", headers=east)).status_code == 204


async def test_a_dead_receiver_does_not_hold_back_the_others(
    http: httpx.AsyncClient, token: Token
) -> None:
    """Deliveries overlap: while one subscriber's deliveries are retried with backoff (about 7 s
    here), another subscriber receives its events at once."""
    types = ["anmalan_mottagen", "skyddsbedomning_gjord"]
    dead = f"http://127.0.0.1:{free_port()}/nobody-listens"
    hdr = token("system")
    with receiving(failures=0) as (state, url):
        subs = [
            (await http.post("/webhooks", json={"url": u, "event_types": types}, headers=hdr))
            for u in (dead, url)
        ]
        assert [s.status_code for s in subs] == [201, 201]
        ref = new_ref()
        steps = lifecycle(ref, new_pnr())
        for step in steps[:2]:  # the second event comes while the dead one is being retried
            assert (await http.post("/commands", json=step, headers=hdr)).status_code == 201
            await asyncio.sleep(0.6)
        started = time.monotonic()

        def both() -> bool:
            return len(_positions(state, {ref}).get(ref, set())) == 2

        await eventually(both, timeout=30)
        assert time.monotonic() - started < 3.0
    failed = (await http.get(f"/webhooks/{subs[0].json()['id']}/deliveries", headers=hdr)).json()
    assert failed and not any(d["delivered"] for d in failed)
    assert all(d["error"] and d["status_code"] is None for d in failed)
    for s in subs:
        assert (await http.delete(f"/webhooks/{s.json()['id']}", headers=hdr)).status_code == 204
