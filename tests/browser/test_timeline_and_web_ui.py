"""Headless Chromium (Debian's ``chromium``, driven by playwright) opens what an auditor and an
operator open for a demo case: the HTML audit timeline, and the Temporal Web UI's workflow list
and detail page. Both must show the stage and the next due date (in the UI: the current-details
line "förhandsbedömning: dag N av M (förfaller …)" and the BarnflowStage and BarnflowNextDue
search attributes); screenshots are kept as test artifacts
(``$BARNFLOW_TEST_ARTIFACTS`` or ``tests/artifacts/``).

Chromium comes from the system package (``apt-get install -y chromium``), never from
``playwright install``. Without it the test is skipped locally and fails in CI (``CI=true``).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.async_api import Browser, Page, async_playwright
from temporalio.client import Client

from domain.calendar import STOCKHOLM, add_days
from domain.events import parse_event
from infra.audit.case import AuditQuery, case_audit
from infra.audit.html import render_html
from infra.config.clock import today_stockholm
from infra.persistence.store import CaseStore, eventsourcing_env
from infra.temporal.client import connect
from infra.temporal.commands import adopt
from infra.temporal.devserver import DevServer, dev_server
from infra.temporal.worker import running_worker
from projections.runner import caught_up
from tests.conftest import CIPHER_KEY, CODEC_KEY, PSEUDONYM_KEY
from tests.factories import anmalan, fresh_pnr, line
from workflows import search

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
KOMMUN = "9701"
REF = "VS-BROWSER-1"
DAYS_AGO = 5


def artifacts_dir() -> Path:
    out = Path(
        os.environ.get("BARNFLOW_TEST_ARTIFACTS") or Path(__file__).parent.parent / "artifacts"
    )
    out.mkdir(parents=True, exist_ok=True)
    return out


@pytest.fixture(scope="module")
def ui_server() -> Iterator[DevServer]:
    """A dev server with its Web UI (the session's shared server is headless)."""
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: apt-get install -y chromium")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    with tempfile.TemporaryDirectory(prefix="bf-ui-") as tmp, dev_server(Path(tmp)) as server:
        yield server


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            await b.close()


async def _demo_case(client: Client, store: CaseStore, queue: str) -> tuple[str, str]:
    """A backdated anmälan (skyddsbedömning done): förhandsbedömning runs, day 5 of 14."""
    received = datetime.combine(
        add_days(today_stockholm(), -DAYS_AGO), time(9), tzinfo=STOCKHOLM
    ).astimezone(UTC)
    pnr = fresh_pnr()
    store.record(parse_event(anmalan(received, pnr=pnr, kommun=KOMMUN, case_ref=REF)))
    store.record(
        parse_event(
            line(
                "skyddsbedomning_gjord",
                {"anmalan_id": "anm-1", "omedelbart_skydd": False},
                at=received + timedelta(hours=1),
                key="browser-2",
                kommun=KOMMUN,
                case_ref=REF,
            )
        )
    )
    wid = await adopt(client, store, KOMMUN, REF, pseudonym_key=PSEUDONYM_KEY, task_queue=queue)
    for _ in range(100):  # visibility is eventually consistent
        found = [w async for w in client.list_workflows(f"WorkflowId = '{wid}'")]
        if found and found[0].typed_search_attributes.get(search.STAGE):
            return wid, pnr
        await asyncio.sleep(0.2)
    raise AssertionError("the workflow never published BarnflowStage")


async def _text(page: Page) -> str:
    return str(await page.inner_text("body"))


async def test_timeline_page_and_web_ui_show_stage_and_next_due_date(
    ui_server: DevServer,
    browser: Browser,
    pg_url: str,
    schema: str,
    store: CaseStore,
    task_queue: str,
) -> None:
    client = await connect(ui_server.address, "default", CODEC_KEY)
    async with running_worker(client, store, task_queue):  # the UI queries current details
        await _open_both(client, browser, pg_url, schema, store, task_queue, ui_server)


async def _open_both(
    client: Client,
    browser: Browser,
    pg_url: str,
    schema: str,
    store: CaseStore,
    task_queue: str,
    ui_server: DevServer,
) -> None:
    wid, pnr = await _demo_case(client, store, task_queue)
    due = add_days(today_stockholm(), 14 - DAYS_AGO).isoformat()
    out = artifacts_dir()

    with caught_up(eventsourcing_env(pg_url, schema, CIPHER_KEY)) as runner:
        doc = case_audit(runner.view, AuditQuery(KOMMUN, REF, today_stockholm()))
    html = out / "audit-timeline.html"
    html.write_text(render_html(doc), encoding="utf-8")

    page = await browser.new_page(viewport={"width": 1200, "height": 900})
    await page.goto(html.as_uri())
    body = await _text(page)
    assert "förhandsbedömning" in body and due in body  # the stage by its Swedish name
    assert await page.locator("svg rect").count() >= 2  # the stage band and the frist bars
    # no two labels of the timeline overlap as the browser lays them out
    boxes = await page.evaluate(
        "() => [...document.querySelectorAll('svg text')].map(t => {"
        " const b = t.getBBox(); return [b.x, b.y, b.width, b.height, t.textContent]; })"
    )
    for i, (x1, y1, w1, h1, t1) in enumerate(boxes):
        for x2, y2, w2, h2, t2 in boxes[i + 1 :]:
            apart = x1 + w1 <= x2 or x2 + w2 <= x1 or y1 + h1 <= y2 or y2 + h2 <= y1
            assert apart, f"timeline labels {t1!r} and {t2!r} overlap"
    # ... and each is on top where it stands (no band painted over it)
    hidden = await page.evaluate(
        "() => [...document.querySelectorAll('svg text')].filter(t => {"
        " const r = t.getBoundingClientRect();"
        " const hit = document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2);"
        " return hit !== t; }).map(t => t.textContent)"
    )
    assert hidden == []
    await page.screenshot(path=str(out / "audit-timeline.png"), full_page=True)

    query = quote(f"WorkflowId = '{wid}'")
    await page.goto(f"{ui_server.ui_url}/namespaces/default/workflows?query={query}")
    await page.get_by_text(wid).first.wait_for(timeout=30_000)
    await page.screenshot(path=str(out / "web-ui-workflows.png"), full_page=True)

    # the detail page: the current-details line (the workflow-metadata query answer, left
    # readable by the payload codec: stage, day counts, due date only) ...
    await page.goto(f"{ui_server.ui_url}/namespaces/default/workflows/{wid}")
    # (tab "User Metadata"; the UI renders each markdown text in a sandboxed iframe: the static
    # summary's first, the current details' last)
    details = f"Förhandsbedömning: dag {DAYS_AGO} av 14 (förfaller {due})"
    await page.get_by_text("User Metadata").first.click()
    rendered = page.frame_locator("iframe").last.get_by_text(details)
    await rendered.first.wait_for(timeout=30_000)
    await page.screenshot(path=str(out / "web-ui-current-details.png"), full_page=True)
    # ... and the plaintext search attributes
    await page.get_by_text("Search Attributes").first.click()
    await page.get_by_text('"BarnflowStage": "forhandsbedomning"').first.wait_for(timeout=30_000)
    body = await _text(page)
    assert f'"BarnflowNextDue": "{due}T00:00:00' in body
    await page.screenshot(path=str(out / "web-ui-workflow.png"), full_page=True)
    assert pnr not in body
