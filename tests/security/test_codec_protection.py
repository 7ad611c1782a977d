"""The codec server refuses to decode a protected case's payloads for a token whose role the
kommun has not named (POL-SKYDD-CODEC; docs/security.md "Protected identities"). The app runs
in-process over a real store in PostgreSQL holding one protected and one ordinary case."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import temporalio.converter
from google.protobuf import json_format
from temporalio.api.common.v1 import Payloads

from domain.ids import workflow_id_for
from domain.protection import DEFAULT_ROLES
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore
from infra.temporal.codec import EncryptionCodec
from infra.temporal.codec_protection import ProtectedCases
from infra.temporal.codec_server import AccessLog, create_app, load_config
from infra.temporal.commands import child_pseudonym
from tests.conftest import CODEC_KEY, PSEUDONYM_KEY
from tests.factories import PNR_GIRL, PNR_THIRD, line

PLAIN = "anna-" + "x" * 40
NAMED = "sara-" + "z" * 40
AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _case(ref: str, pnr: str, *, protect: bool) -> list[str]:
    barn = {"personnummer": pnr, "kon": "flicka"}
    opening = {"anmalan_id": "a1", "barn": barn, "anmalare_kategori": "skola"}
    out = [line("anmalan_mottagen", opening, at=AT, key=f"{ref}-1", case_ref=ref)]
    if protect:
        out.append(line("skydd_markerat", {"skydd": "sekretessmarkering"}, at=AT, key=f"{ref}-2",
                        case_ref=ref))  # fmt: skip
    return [orjson.dumps(x).decode() for x in out]


async def _body(value: Any) -> str:
    plain = temporalio.converter.default().payload_converter.to_payloads([value])
    return json_format.MessageToJson(
        Payloads(payloads=await EncryptionCodec(CODEC_KEY).encode(plain))
    )


@pytest.fixture
def app_and_log(store: CaseStore, tmp_path: Path) -> tuple[httpx.AsyncClient, Path, str]:
    import_lines(store, [*_case("VS-SKYDD", PNR_GIRL, protect=True),
                         *_case("VS-VANLIG", PNR_THIRD, protect=False)])  # fmt: skip
    env = {"BARNFLOW_CODEC_SERVER_TOKENS": f"anna:{PLAIN},sara:{NAMED}:{DEFAULT_ROLES[0]}"}
    config = load_config(env, tmp_path)
    assert config.token_roles == {"sara": "handlaggare_skydd"}
    log = AccessLog(config.log_path)
    app = create_app(config, EncryptionCodec(CODEC_KEY), log, ProtectedCases(store, PSEUDONYM_KEY))
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://codec")
    opening = store.case_events(
        __import__("domain.ids", fromlist=["x"]).case_id_for("1280", "VS-SKYDD")
    )[0]
    return client, config.log_path, workflow_id_for("1280", child_pseudonym(opening, PSEUDONYM_KEY))


async def test_a_protected_cases_payloads_are_decoded_only_for_a_named_role(
    app_and_log: tuple[httpx.AsyncClient, Path, str],
) -> None:
    client, log_path, wid = app_and_log
    command = {"event": {"kommun": "1280", "case_ref": "VS-SKYDD", "type": "barnet_hort",
                         "data": {"satt": "hemligt boende i Gävle"}}}  # fmt: skip
    other = {"event": {**command["event"], "case_ref": "VS-VANLIG"}}
    start = {"kommun": "1280", "child_pseudonym": wid.rsplit("-", 1)[1], "events": []}
    async with client:

        def post(body: str, token: str, **headers: str) -> Any:
            return client.post("/decode", content=body,
                               headers={"Authorization": f"Bearer {token}", **headers})  # fmt: skip

        for body in (await _body(command), await _body(start)):
            refused = await post(body, PLAIN)
            assert refused.status_code == 403, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            assert "skyddade personuppgifter" in refused.json()["sv"]
            assert "Gävle" not in refused.text and "protected" in refused.json()["en"]
            ok = await post(body, NAMED)
            assert ok.status_code == 200, ok.text
        # the workflow id a client sends in the header is enough to refuse an unnamed token
        by_header = await post(await _body({"count": 3}), PLAIN, **{"X-Workflow-Id": wid})
        assert by_header.status_code == 403
        # an ordinary case's payloads are decoded as before
        assert (await post(await _body(other), PLAIN)).status_code == 200
    results = [json.loads(x)["result"] for x in log_path.read_text().splitlines()]
    assert results == ["protected", "ok", "protected", "ok", "protected", "ok"]
