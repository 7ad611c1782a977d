"""The codec server decodes for a known bearer token only, and logs every decode without content."""

from __future__ import annotations

import hashlib
import json
import socket
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import temporalio.converter
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from infra.temporal.codec import ENCODING, EncryptionCodec
from infra.temporal.devserver import free_port, stop_process
from tests.conftest import CODEC_KEY
from tests.factories import PNR_GIRL
from tests.security.cli import BARNFLOW, b64, cli_env

TOKEN = "anna-" + "x" * 40
OTHER_TOKEN = "ops-" + "y" * 40
UI_ORIGIN = "http://ui.example:8233"
CONTENT = {"barn": {"personnummer": PNR_GIRL, "kon": "flicka"}, "skal": "hemlig anteckning"}
WORKFLOW_ID = "barnarende-1280-abcdefghijklmnopqrstuvwx"


@dataclass(frozen=True)
class CodecServer:
    url: str
    log: Path


@pytest.fixture(scope="module")
def codec_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CodecServer]:
    home = tmp_path_factory.mktemp("codec-home")
    port = free_port()
    env = cli_env(
        home,
        BARNFLOW_CODEC_KEY=b64(CODEC_KEY),
        BARNFLOW_PSEUDONYM_KEY=b64(b"p" * 32),
        BARNFLOW_CIPHER_KEY=b64(b"s" * 32),
        BARNFLOW_CODEC_SERVER_TOKENS=f"anna.handlaggare:{TOKEN},ops:{OTHER_TOKEN}",
        BARNFLOW_CODEC_SERVER_ORIGINS=UI_ORIGIN,
    )
    proc = subprocess.Popen(
        [*BARNFLOW, "codec-server", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"codec server exited: {proc.stderr.read()!r}")  # type: ignore[union-attr]
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                raise TimeoutError("codec server did not listen within 30 s")
            time.sleep(0.1)
        yield CodecServer(f"http://127.0.0.1:{port}", home / "codec-server-access.log")
    finally:
        stop_process(proc)


async def _encrypted_body() -> str:
    plain = temporalio.converter.default().payload_converter.to_payloads([CONTENT])
    encrypted = await EncryptionCodec(CODEC_KEY).encode(plain)
    return json_format.MessageToJson(Payloads(payloads=encrypted))


def _log(server: CodecServer) -> list[dict[str, Any]]:
    return [json.loads(line) for line in server.log.read_text().splitlines()]


def _decoded(response: httpx.Response) -> list[Any]:
    payloads = json_format.Parse(response.content, Payloads()).payloads
    return temporalio.converter.default().payload_converter.from_payloads(payloads, [dict])


async def test_decode_with_token_returns_plaintext_and_is_logged_without_content(
    codec_server: CodecServer,
) -> None:
    body = await _encrypted_body()
    assert PNR_GIRL not in body
    async with httpx.AsyncClient(base_url=codec_server.url) as http:
        r = await http.post(
            "/decode",
            content=body,
            headers={
                "Authorization": f"Bearer {TOKEN}",
                "Content-Type": "application/json",
                "X-Namespace": "barnflow",
                "X-Workflow-Id": WORKFLOW_ID,
            },
        )
    assert r.status_code == 200, r.text
    assert _decoded(r) == [CONTENT]

    entry = _log(codec_server)[-1]
    assert entry["action"] == "decode" and entry["result"] == "ok"
    assert entry["who"] == "anna.handlaggare" and entry["payloads"] == 1
    assert entry["namespace"] == "barnflow" and entry["workflow_id"] == WORKFLOW_ID
    raw = codec_server.log.read_text()
    assert PNR_GIRL not in raw and "hemlig" not in raw and TOKEN not in raw
    assert stat.S_IMODE(codec_server.log.stat().st_mode) == 0o600


async def test_without_or_with_a_wrong_token_401_and_the_attempt_is_logged(
    codec_server: CodecServer,
) -> None:
    body = await _encrypted_body()
    async with httpx.AsyncClient(base_url=codec_server.url) as http:
        missing = await http.post("/decode", content=body)
        wrong = await http.post(
            "/decode", content=body, headers={"Authorization": f"Bearer {TOKEN}x"}
        )
        wrong_path = await http.post(f"/t/{TOKEN}x/decode", content=body)
    for r in (missing, wrong, wrong_path):
        assert r.status_code == 401
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert PNR_GIRL not in r.text
    denied = _log(codec_server)[-3:]
    assert [(e["who"], e["result"], e["payloads"]) for e in denied] == [(None, "denied", 0)] * 3


async def test_token_in_the_path_for_the_browser_ui_and_cors_for_its_origin_only(
    codec_server: CodecServer,
) -> None:
    body = await _encrypted_body()
    async with httpx.AsyncClient(base_url=codec_server.url) as http:
        r = await http.post(f"/t/{OTHER_TOKEN}/decode", content=body, headers={"Origin": UI_ORIGIN})
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type,x-namespace",
        }
        ok = await http.options("/decode", headers={"Origin": UI_ORIGIN, **preflight})
        other = await http.options(
            "/decode", headers={"Origin": "http://evil.example", **preflight}
        )
    assert r.status_code == 200 and _decoded(r) == [CONTENT]
    assert r.headers["access-control-allow-origin"] == UI_ORIGIN
    assert _log(codec_server)[-1]["who"] == "ops"
    assert ok.status_code == 200 and ok.headers["access-control-allow-origin"] == UI_ORIGIN
    assert "access-control-allow-origin" not in other.headers


async def test_encode_round_trips_and_bad_bodies_are_problems(codec_server: CodecServer) -> None:
    plain = temporalio.converter.default().payload_converter.to_payloads([CONTENT])
    auth = {"Authorization": f"Bearer {TOKEN}"}
    async with httpx.AsyncClient(base_url=codec_server.url) as http:
        enc = await http.post(
            "/encode", content=json_format.MessageToJson(Payloads(payloads=plain)), headers=auth
        )
        bad = await http.post("/decode", content=b"{not json", headers=auth)
        foreign = await EncryptionCodec(b"f" * 32).encode(plain)
        undecryptable = await http.post(
            "/decode", content=json_format.MessageToJson(Payloads(payloads=foreign)), headers=auth
        )
    assert enc.status_code == 200
    encrypted = json_format.Parse(enc.content, Payloads()).payloads
    assert encrypted[0].metadata["encoding"] == ENCODING
    assert await EncryptionCodec(CODEC_KEY).decode(encrypted) == list(plain)
    assert bad.status_code == 400 and bad.json()["status"] == 400
    assert undecryptable.status_code == 422 and "unknown key id" in undecryptable.json()["detail"]
    results = [(e["action"], e["result"]) for e in _log(codec_server)[-3:]]
    assert results == [("encode", "ok"), ("decode", "rejected"), ("decode", "undecryptable")]


async def test_access_log_is_a_hash_chain(codec_server: CodecServer) -> None:
    async with httpx.AsyncClient(base_url=codec_server.url) as http:
        for auth in (TOKEN, "nope"):
            await http.post("/decode", content=b"{}", headers={"Authorization": f"Bearer {auth}"})
    lines = codec_server.log.read_bytes().splitlines()
    assert len(lines) >= 2
    prev = "0" * 64
    for line in lines:
        assert json.loads(line)["prev"] == prev
        prev = hashlib.sha256(line).hexdigest()
