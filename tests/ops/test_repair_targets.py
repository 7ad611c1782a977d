"""From finding to fixing in one step: ``ops repair`` takes what ``ops stuck`` printed (workflow
id, case id, or case_ref with kommun), and ``ops stuck`` reports webhook subscriptions whose
deliveries have been failing for longer than a threshold, with the last error."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.webhooks import WebhookActivities
from domain.events import parse_event
from domain.ids import case_id_for
from infra.config.settings import Settings, load_settings
from infra.ops.repair import find_case, repair
from infra.ops.stuck import WEBHOOK_FAILING, StuckOptions, find_stuck
from infra.persistence.db import connection, ensure_tables, q
from infra.persistence.store import CaseStore
from infra.temporal.devserver import DevServer, free_port
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.factories import PNR_BOY, PNR_GIRL, anmalan, line
from tests.helpers import subprocess_env
from workflows.webhooks import Delivery

BARNFLOW = [sys.executable, "-m", "infra.cli"]
pytestmark = pytest.mark.timeout(300)


def _env(pg_url: str, schema: str, address: str) -> dict[str, str]:
    def b64(key: bytes) -> str:
        return base64.b64encode(key).decode()

    env = subprocess_env()
    env.update(
        {
            "BARNFLOW_DATABASE_URL": pg_url,
            "BARNFLOW_DATABASE_SCHEMA": schema,
            "BARNFLOW_TEMPORAL_ADDRESS": address,
            "BARNFLOW_CODEC_KEY": b64(CODEC_KEY),
            "BARNFLOW_PSEUDONYM_KEY": b64(PSEUDONYM_KEY),
            "BARNFLOW_CIPHER_KEY": b64(CIPHER_KEY),
        }
    )
    return env


def _settings(env: dict[str, str]) -> Settings:
    return load_settings(env)


def _record_case(store: CaseStore, kommun: str, ref: str, pnr: str) -> str:
    """A case in the store whose workflow was never started (``ops stuck``: missing)."""
    at = datetime.now(UTC) - timedelta(hours=1)
    store.record(parse_event(anmalan(at, pnr=pnr, kommun=kommun, case_ref=ref, key=ref)))
    return str(case_id_for(kommun, ref))


def _barnflow(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*BARNFLOW, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_repair_accepts_what_stuck_printed(
    store: CaseStore, pg_url: str, schema: str, dev_temporal: DevServer
) -> None:
    env = _env(pg_url, schema, dev_temporal.address)
    ref = f"VS-rep-{uuid.uuid4().hex[:8]}"
    case_id = _record_case(store, "9911", ref, PNR_GIRL)

    stuck = _barnflow("ops", "stuck", "--format", "json", env=env)
    assert stuck.returncode == 1, stuck.stderr  # something is stuck: ours
    ours = [r for r in json.loads(stuck.stdout) if r["case_id"] == case_id]
    assert [r["kind"] for r in ours] == ["missing"]
    wid = ours[0]["workflow_id"]
    assert f"barnflow ops repair {case_id}" in ours[0]["action"]  # names one case
    table = _barnflow("ops", "stuck", env=env)
    assert wid in table.stdout and f"case id:  {case_id} (kommun 9911)" in table.stdout

    for target in ([wid], [case_id], [ref, "--kommun", "9911"], [ref]):
        plan = _barnflow("ops", "repair", *target, "--reason", "test", env=env)
        assert plan.returncode == 0, (target, plan.stderr)
        assert f"would: adopt {wid} from the store" in plan.stdout, target

    other = str(uuid.uuid4())
    for target, said in (
        (["barnarende-9911-nosuch"], "no case with workflow id barnarende-9911-nosuch"),
        ([other], f"no case with case id {other}"),
        ([ref, "--kommun", "0180"], f"no case with case_ref '{ref}' in kommun 0180"),
    ):
        bad = _barnflow("ops", "repair", *target, "--reason", "test", env=env)
        assert bad.returncode == 2, bad.stderr
        assert bad.stderr.strip().splitlines() == [f"barnflow: {said}"]


async def test_repair_by_workflow_id_adopts_and_a_shared_case_ref_needs_its_kommun(
    store: CaseStore, pg_url: str, schema: str, dev_temporal: DevServer, dev_client: Client
) -> None:
    env = _env(pg_url, schema, dev_temporal.address)
    settings = _settings(env)
    ref = f"VS-two-{uuid.uuid4().hex[:8]}"
    _record_case(store, "9912", ref, PNR_GIRL)
    _record_case(store, "9913", ref, PNR_BOY)
    with pytest.raises(LookupError, match="kommuner 9912, 9913: add --kommun"):
        find_case(store, PSEUDONYM_KEY, ref)
    head = find_case(store, PSEUDONYM_KEY, ref, "9913")
    rows = await find_stuck(dev_client, store, PSEUDONYM_KEY)
    wid = next(r.workflow_id for r in rows if r.case_id == str(head.case_id))
    assert wid is not None and wid.startswith("barnarende-9913-")
    plan = await repair(
        dev_client, store, settings, pg_url, case_ref=wid, reason="test", actor="ops1", apply=True
    )
    assert plan.applied and plan.case_id == str(head.case_id)
    desc = await dev_client.get_workflow_handle(wid).describe()
    assert desc.status is not None and desc.status.name == "RUNNING"
    await dev_client.get_workflow_handle(wid).terminate(reason="test done")


def _closed_case(store: CaseStore, kommun: str, ref: str, pnr: str) -> str:
    """A case of ``pnr`` opened and closed (no action) an hour ago, in the store only."""
    at = datetime.now(UTC) - timedelta(hours=1)
    steps = [
        anmalan(at, pnr=pnr, kommun=kommun, case_ref=ref, key=f"{ref}-1"),
        line(
            "skyddsbedomning_gjord",
            {"anmalan_id": "anm-1", "omedelbart_skydd": False},
            at=at,
            key=f"{ref}-2",
            kommun=kommun,
            case_ref=ref,
        ),
        line(
            "forhandsbedomning_beslutad",
            {"anmalan_id": "anm-1", "beslut": "inleda_utredning"},
            at=at,
            key=f"{ref}-3",
            kommun=kommun,
            case_ref=ref,
        ),
        line(
            "utredning_inledd",
            {"utredning_id": "u-1", "grund": "anmalan"},
            at=at,
            key=f"{ref}-4",
            kommun=kommun,
            case_ref=ref,
        ),
        line(
            "utredning_avslutad",
            {"utredning_id": "u-1", "utfall": "ingen_atgard"},
            at=at,
            key=f"{ref}-5",
            kommun=kommun,
            case_ref=ref,
        ),
        line(
            "arende_avslutat",
            {"orsak": "ingen_atgard"},
            at=at,
            key=f"{ref}-6",
            kommun=kommun,
            case_ref=ref,
        ),
    ]
    for step in steps:
        store.record(parse_event(step))
    return str(case_id_for(kommun, ref))


async def test_repair_by_workflow_id_takes_the_open_case_not_an_older_closed_one(
    store: CaseStore, pg_url: str, schema: str, dev_temporal: DevServer, dev_client: Client
) -> None:
    """A child with a closed case and an open one shares one workflow id: repair by that id
    adopts the open case (and stuck's action names the case id, which is unique)."""
    env = _env(pg_url, schema, dev_temporal.address)
    settings = _settings(env)
    tag = uuid.uuid4().hex[:8]
    closed_id = _closed_case(store, "9915", f"VS-old-{tag}", PNR_BOY)
    open_id = _record_case(store, "9915", f"VS-new-{tag}", PNR_BOY)
    head = find_case(store, PSEUDONYM_KEY, open_id)
    assert str(head.case_id) == open_id
    rows = await find_stuck(dev_client, store, PSEUDONYM_KEY)
    [row] = [r for r in rows if r.case_id == open_id]
    wid = row.workflow_id
    assert wid is not None and f"barnflow ops repair {open_id}" in row.action
    assert str(find_case(store, PSEUDONYM_KEY, wid).case_id) == open_id
    plan = await repair(
        dev_client, store, settings, pg_url, case_ref=wid, reason="test", actor="ops1", apply=True
    )
    assert plan.case_id == open_id and plan.steps[-1].startswith(f"adopt {wid} from the store")
    desc = await dev_client.get_workflow_handle(wid).describe()
    assert desc.status is not None and desc.status.name == "RUNNING"
    # naming the closed case keeps the open case's workflow running
    kept = await repair(
        dev_client, store, settings, pg_url, case_ref=closed_id, reason="t", actor="o", apply=True
    )
    assert kept.steps == [
        f"keep {wid} running: it drives the child's open case",
        "case is closed in the store: nothing to adopt",
    ]
    desc = await dev_client.get_workflow_handle(wid).describe()
    assert desc.status is not None and desc.status.name == "RUNNING"
    await dev_client.get_workflow_handle(wid).terminate(reason="test done")


# ---------------------------------------------------------------------------- webhooks
class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def receiver() -> Iterator[str]:
    """A real HTTP receiver that accepts every delivery (stopped after the test)."""
    server = HTTPServer(("127.0.0.1", 0), _Ok)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def _subscribe(store: CaseStore, url: str) -> str:
    sub = str(uuid.uuid4())
    with connection(store) as conn:
        conn.execute(
            q(
                store,
                "INSERT INTO {s}.webhook_subscriptions (id, kommun, url, event_types, secret,"
                " created_by, after_position) VALUES (%s, '9914', %s, %s, 's3cret', 'ops', 0)",
            ),
            (sub, url, ["anmalan_mottagen"]),
        )
        conn.commit()
    return sub


def _point(store: CaseStore, sub: str, url: str) -> None:
    with connection(store) as conn:
        conn.execute(
            q(store, "UPDATE {s}.webhook_subscriptions SET url = %s WHERE id = %s"), (url, sub)
        )
        conn.commit()


def _webhook_rows(store: CaseStore, now: datetime) -> list[Any]:
    opts = StuckOptions(now=now)  # the default threshold: 15 minutes
    from infra.ops.stuck import failing_webhooks

    return failing_webhooks(store, now - opts.webhook_failing_for)


async def test_stuck_reports_a_webhook_failing_longer_than_the_threshold(
    store: CaseStore, receiver: str
) -> None:
    ensure_tables(store)
    ref = f"VS-hook-{uuid.uuid4().hex[:8]}"
    _record_case(store, "9914", ref, PNR_GIRL)
    position = store.max_position()
    dead = f"http://127.0.0.1:{free_port()}/hook?token=SECRET"  # nobody listens there
    sub = _subscribe(store, dead)
    acts = WebhookActivities(store, timeout=2.0)
    delivery = Delivery(sub, position, "anmalan_mottagen")
    for _ in range(2):
        with pytest.raises(ApplicationError, match="no answer from the receiver"):
            ActivityEnvironment().run(acts.deliver, delivery)
    # the failures are stamped by PostgreSQL's clock (``webhook_deliveries.at``): "now" is its
    # now, not Python's (which a moved test clock, BARNFLOW_TEST_CLOCK=00:05, shifts)
    with connection(store) as conn:
        now = conn.execute("SELECT now() AS now").fetchone()["now"]
    assert _webhook_rows(store, now) == []  # failing, but not yet for 15 minutes

    later = _webhook_rows(store, now + timedelta(minutes=16))
    assert [(r.kind, r.subscription_id, r.kommun) for r in later] == [
        (WEBHOOK_FAILING, sub, "9914")
    ]
    evidence = later[0].evidence
    assert "2 failed deliveries" in evidence and "no answer from the receiver" in evidence
    assert "SECRET" not in evidence and "token" not in evidence  # only the host is shown
    assert f"DELETE /webhooks/{sub}" in later[0].action

    # the receiver is fixed: a delivered event ends the finding
    _point(store, sub, receiver)
    ActivityEnvironment().run(acts.deliver, delivery)
    assert _webhook_rows(store, datetime.now(UTC) + timedelta(minutes=16)) == []
    acts.close()
