"""``/docs`` renders with the network blocked: headless Chromium (Debian's ``chromium``) resolves
no host but 127.0.0.1, opens the API's Swagger UI served by uvicorn, and sees the API's title,
its operations and the webhooks section; every request the page made went to the API itself.
The screenshot is kept as a test artifact (``docs-offline.png``)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator

import httpx
import pytest
import uvicorn
from playwright.async_api import async_playwright

from infra.api.app import create_app
from infra.temporal.devserver import free_port
from tests.browser.test_timeline_and_web_ui import CHROMIUM, CHROMIUM_ARGS, artifacts_dir

#: Every host name fails to resolve except loopback: a CDN, a favicon or a validator badge
#: elsewhere cannot load (and the request log below would show the attempt).
BLOCKED = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"


@pytest.fixture
async def served() -> AsyncIterator[str]:
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is missing: apt-get install -y chromium")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(None), host="127.0.0.1", port=port, log_level="error")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_docs_render_with_the_network_blocked(served: str) -> None:
    requested: list[str] = []
    failed: list[str] = []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(
            executable_path=str(CHROMIUM), args=[*CHROMIUM_ARGS, BLOCKED]
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 1600})
            page.on("request", lambda r: requested.append(r.url))
            page.on("requestfailed", lambda r: failed.append(r.url))
            await page.goto(f"{served}/docs", wait_until="networkidle")
            await page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
            title = await page.inner_text(".swagger-ui .info .title")
            body = await page.inner_text("body")
            await page.screenshot(path=str(artifacts_dir() / "docs-offline.png"), full_page=False)
        finally:
            await browser.close()
    assert "barnflow API" in title
    assert "/commands" in body and "/events" in body
    assert "caseEvent" in body or "Webhooks" in body  # OpenAPI 3.1's webhooks section
    outside = [u for u in requested if not u.startswith(served) and not u.startswith("data:")]
    assert outside == [], outside
    assert failed == [], failed
    assert any(u.endswith("/docs/static/swagger-ui-bundle.js") for u in requested)
    assert any(u.endswith("/openapi.json") for u in requested)


async def test_the_docs_page_names_no_external_url() -> None:
    """Without a browser too: the page and its initializer name only the API's own paths."""
    app = create_app(None)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
        page = await client.get("/docs")
        bundle = await client.get("/docs/static/swagger-ui-bundle.js")
    assert page.status_code == 200 and bundle.status_code == 200
    assert re.findall(r"https?://", page.text) == []
    assert '"validatorUrl": null' in page.text
