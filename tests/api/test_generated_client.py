"""A client nobody here wrote: ``openapi-python-client`` generates one from docs/openapi.json in
the test run (offline: the generator is an installed package), and it drives one whole case, a
rule's rejection and a report against the real stack (PostgreSQL, Temporal, worker, API).

The generated models are typed per event type (``AnmalanMottagenCommand`` …), so this is also
the proof that the document's discriminated unions are usable by a standard generator.
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from domain.events import EVENT_TYPES
from infra.api.app import create_app
from infra.api.contract import camel
from infra.api.services import Services
from infra.config.clock import today_stockholm
from tests.api.cases import lifecycle
from tests.api.conftest import Token, new_pnr, new_ref

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
BASE = "http://barnflow.test"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """The client package generated from the committed document, imported."""
    root = tmp_path_factory.mktemp("generated")
    package = f"barnflow_client_{uuid.uuid4().hex[:8]}"
    config = root / "config.yaml"
    config.write_text("post_hooks: []\n")
    cli = Path(sys.executable).parent / "openapi-python-client"
    run = subprocess.run(
        [
            str(cli),
            "generate",
            "--path",
            str(DOC),
            "--output-path",
            str(root / package),
            "--meta",
            "none",
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(root))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(root))


def _mod(pkg: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{pkg.__name__}.{name}")


@pytest.fixture
async def client(generated: ModuleType, services: Services, token: Token) -> AsyncIterator[Any]:
    """The generated ``AuthenticatedClient`` over the app in-process (same event loop)."""
    headers = token("handlaggare")
    jwt = headers["Authorization"].removeprefix("Bearer ")
    c = generated.AuthenticatedClient(base_url=BASE, token=jwt, headers=headers)
    transport = httpx.ASGITransport(app=create_app(services))
    async with httpx.AsyncClient(transport=transport, base_url=BASE, headers=headers) as raw:
        c.set_async_httpx_client(raw)
        yield c


async def test_generated_client_drives_a_whole_case_a_rejection_and_a_report(
    generated: ModuleType, client: Any
) -> None:
    models = _mod(generated, "models")
    post = _mod(generated, "api.commands.post_command_commands_post")
    state_api = _mod(generated, "api.cases.case_state_cases_kommun_case_ref_get")
    timeline_api = _mod(generated, "api.cases.case_timeline_cases_kommun_case_ref_timeline_get")
    frister_api = _mod(generated, "api.cases.case_frister_cases_kommun_case_ref_frister_get")
    report_api = _mod(generated, "api.reports.report_reports_name_get")
    ref, pnr = new_ref(), new_pnr()
    steps = lifecycle(ref, pnr)

    # the opening command built from the generated, typed models
    first = steps[0]
    opening = models.AnmalanMottagenCommand(
        kommun="1280",
        case_ref=ref,
        type_="anmalan_mottagen",
        occurred_at=datetime.fromisoformat(first["occurred_at"]),
        actor=models.Actor(id=first["actor"]["id"], roll=first["actor"]["roll"]),
        idempotency_key=first["idempotency_key"],
        data=models.AnmalanMottagenData(
            anmalan_id="anm-1",
            barn=models.Barn(personnummer=pnr, kon=models.BarnKon.FLICKA),
            anmalare_kategori="skola",
            enhet=first["data"]["enhet"],
        ),
    )
    answer = await post.asyncio_detailed(client=client, body=opening)
    assert answer.status_code == 201, answer.content
    assert isinstance(answer.parsed, models.CommandAccepted)
    assert isinstance(answer.parsed.event, models.AnmalanMottagenEvent)
    assert answer.parsed.event.data.barn.kon == models.BarnKon.FLICKA

    # the rest of the case through the generated models of each type
    last = answer.parsed.position
    for step in steps[1:]:
        body = getattr(models, f"{camel(step['type'])}Command").from_dict(step)
        answer = await post.asyncio_detailed(client=client, body=body)
        assert answer.status_code == 201, answer.content
        assert type(answer.parsed.event).__name__ == f"{camel(step['type'])}Event"
        last = answer.parsed.position

    state = await state_api.asyncio(kommun="1280", case_ref=ref, client=client, min_position=last)
    assert isinstance(state, models.CaseStateOut)
    assert state.closed is True and state.event_count == len(steps)
    frister = await frister_api.asyncio(kommun="1280", case_ref=ref, client=client)
    assert {f.rule for f in frister.frister} >= {"A2"}
    timeline = await timeline_api.asyncio(kommun="1280", case_ref=ref, client=client)
    assert [type(e).__name__ for e in timeline.events] == [
        f"{camel(s['type'])}Event" for s in steps
    ]
    assert timeline.events[0].data.barn.personnummer == pnr

    # a rejection: a beslut on a case without an utredning is refused by rule P-NO-UTREDNING
    other = new_ref()
    opened = lifecycle(other, new_pnr())[0]
    answer = await post.asyncio_detailed(
        client=client, body=models.AnmalanMottagenCommand.from_dict(opened)
    )
    assert answer.status_code == 201, answer.content
    opened_at = answer.parsed.position
    beslut = {**steps[5], "case_ref": other, "idempotency_key": f"{other}-beslut"}
    answer = await post.asyncio_detailed(
        client=client, body=models.BeslutFattatCommand.from_dict(beslut)
    )
    assert answer.status_code == 409
    problem = answer.parsed
    assert isinstance(problem, models.ProblemOut)
    assert problem.additional_properties["rule"] == "P-NO-UTREDNING"
    assert problem.additional_properties["sv"] and problem.additional_properties["en"]

    # a report, typed by its name (the union is discriminated on `report`)
    report = await report_api.asyncio(
        name="frister",
        client=client,
        as_of=today_stockholm().isoformat(),
        min_position=opened_at,
    )
    assert isinstance(report, models.ReportFrister), report
    assert report.report == "frister" and report.kommun == "1280"
    assert any(row.case_ref == other for row in report.rows)  # the columns are its fields


def test_every_event_type_has_a_generated_model(generated: ModuleType) -> None:
    models = _mod(generated, "models")
    for etype in EVENT_TYPES:
        assert hasattr(models, f"{camel(etype)}Event"), etype
        assert hasattr(models, f"{camel(etype)}Data"), etype
