"""The operator's view of a case in the Temporal Web UI (issue #18 item 6), in headless Chromium
(Debian's ``chromium``, driven by playwright): the workflow page of an adopted case shows the
run's static summary (kommun, pseudonym prefix, enhet, stage) and the current details at the
top, and no ciphertext anywhere on the page: the input is the case's reference in plaintext, the
case's content is read by a local activity. Screenshots are kept as test artifacts
(``web-ui-case-summary.png``; the committed example is docs/web-ui-case-summary.png).
"""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

from playwright.async_api import Browser, Page
from playwright.async_api import Error as PlaywrightError
from temporalio.client import Client

from domain.calendar import add_days
from domain.events import parse_event
from domain.identity import pseudonym
from infra.config.clock import today_stockholm
from infra.persistence.store import CaseStore
from infra.temporal.client import connect
from infra.temporal.commands import adopt
from infra.temporal.devserver import DevServer
from infra.temporal.worker import running_worker
from tests.browser.test_timeline_and_web_ui import (  # noqa: F401 (fixtures)
    artifacts_dir,
    browser,
    ui_server,
)
from tests.conftest import CODEC_KEY, PSEUDONYM_KEY
from tests.factories import anmalan, days_ago, fresh_pnr, line
from workflows import search

KOMMUN = "9702"
REF = "VS-OPVIEW-1"
ENHET = "Barn och unga Nordväst"
DAYS_AGO = 5
#: What a codec's ciphertext looks like on the page: its encoding (as text or base64) or a long
#: base64 run (an encrypted payload's data).
CIPHERTEXT = re.compile(r"binary/encrypted|YmluYXJ5L2VuY3J5cHRlZA|[A-Za-z0-9+/]{64,}={0,2}")


async def _case(client: Client, store: CaseStore, queue: str) -> tuple[str, str]:
    """An anmälan five days ago to enhet ``ENHET``, skyddsbedömning done: förhandsbedömning."""
    received, pnr = days_ago(DAYS_AGO, at=days_ago(1).timetz().replace(hour=9)), fresh_pnr()
    opening = anmalan(received, pnr=pnr, kommun=KOMMUN, case_ref=REF, key="opview-1")
    opening["data"]["enhet"] = ENHET
    store.record(parse_event(opening))
    skydd = {"anmalan_id": "anm-1", "omedelbart_skydd": False}
    at = received + timedelta(hours=1)
    store.record(
        parse_event(
            line("skyddsbedomning_gjord", skydd, at=at, key="opview-2", kommun=KOMMUN, case_ref=REF)
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


async def test_the_case_page_opens_with_its_summary_and_shows_no_ciphertext(
    ui_server: DevServer,  # noqa: F811
    browser: Browser,  # noqa: F811
    store: CaseStore,
    task_queue: str,
) -> None:
    client = await connect(ui_server.address, "default", CODEC_KEY)
    async with running_worker(client, store, task_queue):  # the UI queries current details
        wid, pnr = await _case(client, store, task_queue)
        child = pseudonym(PSEUDONYM_KEY, KOMMUN, pnr)
        summary = f"barnärende {KOMMUN}-{child[:8]} · enhet {ENHET} · steg vid start: "
        due = add_days(today_stockholm(), 14 - DAYS_AGO).isoformat()

        page = await browser.new_page(viewport={"width": 1280, "height": 900})
        await page.goto(f"{ui_server.ui_url}/namespaces/default/workflows/{wid}")
        # the input panel: the case's reference, readable, and nothing of its content
        await page.get_by_text('"case_id"').first.wait_for(timeout=60_000)
        body = await _text(page)
        await page.screenshot(path=str(artifacts_dir() / "web-ui-case-input.png"))
        assert f'"child_pseudonym": "{child}"' in body and f'"kommun": "{KOMMUN}"' in body
        assert not CIPHERTEXT.search(body), CIPHERTEXT.search(body)
        assert pnr not in body and "anmalan_mottagen" not in body and REF not in body
        # "User Metadata": the summary and the current details (each rendered in an iframe)
        await page.get_by_text("User Metadata").first.click()
        details = f"Förhandsbedömning: dag {DAYS_AGO} av 14 (förfaller {due})"
        for text in (
            summary + "forhandsbedomning",
            details,
            f"steg: forhandsbedomning · enhet {ENHET}",
        ):
            assert await _in_a_frame(page, text), text
        await page.screenshot(path=str(artifacts_dir() / "web-ui-case-summary.png"))
        body = await _text(page)
        assert not CIPHERTEXT.search(body) and pnr not in body


async def _in_a_frame(page: Page, text: str) -> bool:
    """Whether ``text`` shows in one of the page's frames within 30 s (the UI renders user
    metadata as markdown in sandboxed iframes)."""
    for _ in range(150):
        for frame in page.frames:
            try:
                if text in await frame.inner_text("body", timeout=1_000):
                    return True
            except PlaywrightError:
                continue
        await asyncio.sleep(0.2)
    return False
