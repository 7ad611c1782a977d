"""Conventions others already speak: webhook deliveries are CloudEvents 1.0 (structured JSON)
signed per Standard Webhooks, verified here by that specification's published Python library
(``standardwebhooks``, not our code); the deprecated barnflow-v1 body still arrives, signed
both ways; the feed answers CloudEvents in batch mode when asked for it."""

from __future__ import annotations

import httpx
import orjson
import pytest
from jsonschema import Draft202012Validator
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref
from tests.api.test_contract import SPEC
from tests.api.test_webhooks import receiving
from tests.helpers import eventually

CLOUD_EVENT = Draft202012Validator(
    {"$ref": "#/components/schemas/CloudEvent", "components": SPEC["components"]}
)


async def test_deliveries_are_cloudevents_a_standard_webhooks_library_verifies(
    http: httpx.AsyncClient, token: Token
) -> None:
    types = ["anmalan_mottagen", "skyddsbedomning_gjord"]
    with receiving(failures=1) as (state, url):
        sub = await http.post(
            "/webhooks", json={"url": url, "event_types": types}, headers=token("system")
        )
        assert sub.status_code == 201, sub.text
        assert sub.json()["format"] == "cloudevents"  # the default of a new subscription
        verifier = Webhook(sub.json()["signing_secret"])
        ref = new_ref()
        sent = {}
        for step in lifecycle(ref, new_pnr())[:2]:
            r = await http.post("/commands", json=step, headers=token("system"))
            assert r.status_code == 201, r.text
            sent[r.json()["position"]] = step["type"]

        def received() -> list[tuple[dict[str, str], bytes]]:
            with state.lock:
                mine = [(h, b) for h, b in state.accepted if ref.encode() in b]
            return mine if len({orjson.loads(b)["id"] for _, b in mine}) == len(sent) else []

        got = await eventually(received, timeout=30)
        ids = set()
        for headers, body in got:
            lower = {k.lower(): v for k, v in headers.items()}
            event = verifier.verify(body, lower)  # raises unless the signature holds
            assert lower["content-type"] == "application/cloudevents+json"
            assert not list(CLOUD_EVENT.iter_errors(event))
            assert event["specversion"] == "1.0"
            assert event["source"] == "/barnflow/kommun/1280"
            assert event["subject"] == ref
            assert event["type"] == sent[int(event["id"])]
            assert event["data"]["position"] == int(event["id"])
            assert lower["webhook-id"] == f"{sub.json()['id']}:{event['id']}"
            ids.add(int(event["id"]))
            with pytest.raises(WebhookVerificationError):
                verifier.verify(body.replace(ref.encode(), b"VS-FORGED"), lower)
        assert ids == set(sent)
        await http.delete(f"/webhooks/{sub.json()['id']}", headers=token("system"))


async def test_the_deprecated_body_still_arrives_and_verifies_both_ways(
    http: httpx.AsyncClient, token: Token
) -> None:
    with receiving(failures=0) as (state, url):
        body = {"url": url, "event_types": ["anmalan_mottagen"], "format": "barnflow-v1"}
        sub = await http.post("/webhooks", json=body, headers=token("system"))
        assert sub.status_code == 201 and sub.json()["format"] == "barnflow-v1"
        ref = new_ref()
        r = await http.post("/commands", json=lifecycle(ref, new_pnr())[0], headers=token("system"))
        assert r.status_code == 201, r.text

        def received() -> list[tuple[dict[str, str], bytes]]:
            with state.lock:
                return [(h, b) for h, b in state.accepted if ref.encode() in b]

        [(headers, raw)] = await eventually(received, timeout=30)
        lower = {k.lower(): v for k, v in headers.items()}
        payload = Webhook(sub.json()["signing_secret"]).verify(raw, lower)
        assert payload["position"] == r.json()["position"]
        assert payload["event"]["case_ref"] == ref
        assert lower["x-barnflow-signature"].startswith("sha256=")
        await http.delete(f"/webhooks/{sub.json()['id']}", headers=token("system"))


async def test_the_feed_answers_cloudevents_in_batch_mode(
    http: httpx.AsyncClient, token: Token
) -> None:
    ref = new_ref()
    r = await http.post("/commands", json=lifecycle(ref, new_pnr())[0], headers=token("system"))
    assert r.status_code == 201, r.text
    position = r.json()["position"]
    headers = {**token("system"), "Accept": "application/cloudevents-batch+json"}
    feed = await http.get("/events", params={"after": position - 1, "limit": 1}, headers=headers)
    assert feed.status_code == 200, feed.text
    assert feed.headers["content-type"] == "application/cloudevents-batch+json"
    [event] = feed.json()
    assert not list(CLOUD_EVENT.iter_errors(event))
    assert event["id"] == str(position) and event["subject"] == ref
    assert event["type"] == "anmalan_mottagen"
    assert int(feed.headers["Barnflow-Last-Position"]) == position
    assert int(feed.headers["Barnflow-Head"]) >= position
    plain = await http.get("/events", params={"after": position - 1, "limit": 1}, headers=token())
    assert plain.json()["events"][0]["position"] == position  # the default is unchanged
