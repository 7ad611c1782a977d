"""``/docs``: Swagger UI from a PyPI package's static files, so it renders in a closed kommun
network and tells no third party that someone reads the API.

FastAPI's default page loads Swagger UI from a public CDN (blank offline, a request to a third
party online). The assets here come from the ``swagger-ui-py`` wheel (Swagger UI 5, which renders
OpenAPI 3.1) and are served under ``/docs/static``; the page names no external URL: no CDN, no
favicon from elsewhere, and Swagger UI's online validator badge is switched off
(``validatorUrl: null``). ``tests/browser/test_docs_offline.py`` opens it with the network
blocked and fails on any request that leaves the machine.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

STATIC = Path(swagger_ui.__file__).parent / "static"
PREFIX = "/docs/static"


def install(app: FastAPI, title: str) -> None:
    """Serve ``/docs`` and its assets from the installed package."""
    app.mount(PREFIX, StaticFiles(directory=STATIC), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title} — docs",
            swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{PREFIX}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None, "defaultModelsExpandDepth": 0},
        )
