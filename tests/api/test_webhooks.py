"""Webhooks: a loopback receiver that fails its first deliveries still gets every subscribed
event exactly once after de-duplication by position, signed, with failures in the delivery log."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import orjson
import pytest

from activities.webhooks import signature
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


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    state = Receiver(failures=3)

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


async def test_failing_receiver_gets_every_event_once_after_dedup(
    http: httpx.AsyncClient, token: Token, receiver: tuple[Receiver, str]
) -> None:
    state, url = receiver
    types = ["anmalan_mottagen", "skyddsbedomning_gjord", "arende_avslutat"]
    sub = await http.post(
        "/webhooks", json={"url": url, "event_types": types}, headers=token("system")
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
