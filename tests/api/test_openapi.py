"""The committed OpenAPI document is the one the app generates (no drift), and documents every
error as problem+json."""

from __future__ import annotations

from pathlib import Path

import orjson

from infra.api import create_app
from infra.cli.main import main

COMMITTED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_openapi_matches_the_app() -> None:
    generated = create_app(None).openapi()
    assert orjson.loads(COMMITTED.read_bytes()) == generated, (
        "docs/openapi.json is stale: run `barnflow api openapi --output docs/openapi.json`"
    )


def test_openapi_command_regenerates_the_document(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    assert main(["api", "openapi", "--output", str(out)]) == 0
    assert out.read_bytes() == COMMITTED.read_bytes()


def test_every_error_response_is_problem_json() -> None:
    spec = create_app(None).openapi()
    assert spec["openapi"].startswith("3.1")
    for item in spec["paths"].values():
        for op in item.values():
            for code, resp in op["responses"].items():
                if code.startswith(("4", "5")):
                    assert list(resp["content"]) == ["application/problem+json"]
