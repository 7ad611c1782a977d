"""Errors for people: every refusal in Swedish and English naming the field, an unknown type
answered with the closest known types, and the same texts in the CLI as in the API."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from domain.error_texts import closest, swedish, untranslated
from domain.errors import EventValidationError
from domain.event_docs import example_data
from domain.events import EVENT_TYPES, parse_event
from infra.api.contract import example_command
from infra.api.texts import STATUS_SV, problem_texts
from infra.api.texts import swedish as api_swedish
from infra.temporal.rejections import answer, cli_line
from tests.api.conftest import Token

ROOT = Path(__file__).resolve().parents[2]


def _raised_messages() -> list[str]:
    """Every literal message ``domain.events`` and ``domain.identity`` raise (placeholders
    filled with a sample), so a new one without Swedish fails here, not at a user."""
    out = []
    for name in ("domain/events.py", "domain/identity.py"):
        text = (ROOT / name).read_text()
        for m in re.finditer(
            r'(?:EventValidationError\([^,]+,|InvalidIdentity\()((?:\s*f?"[^"]+")+)', text
        ):  # a message may be several literals in a row (implicit concatenation)
            joined = "".join(re.findall(r'f?"([^"]+)"', m.group(1)))
            sample = joined.replace("{what}", "day 31")
            out.append(re.sub(r"\{[^}]*\}", "1", sample))
    return out


def test_every_message_the_domain_raises_has_swedish() -> None:
    messages = _raised_messages()
    assert len(messages) >= 25
    assert untranslated(messages) == []


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"type": "anmalan_motagen"}, "type"),
        ({"occurred_at": "igår"}, "occurred_at"),
        ({"kommun": "12a0"}, "kommun"),
        ({"data": {**example_data("anmalan_mottagen"), "anmalan_id": ""}}, "data.anmalan_id"),
        ({"data": {**example_data("anmalan_mottagen"), "skyddad_anmalare": "ja"}}, None),
        ({"data": {"anmalan_id": "a", "anmalare_kategori": "skola"}}, "data.barn"),
    ],
)
def test_a_422_names_the_field_in_both_languages(bad: dict[str, object], field: str | None) -> None:
    line = {**example_command("anmalan_mottagen"), **bad}
    with pytest.raises(EventValidationError) as caught:
        parse_event(line)
    a = answer(caught.value)
    assert a.status == 422
    sv, en = a.members["sv"], a.members["en"]
    named = field or caught.value.field
    assert sv.startswith(f"{named}: ") and en.startswith(f"{named}: ")
    assert sv != en
    # the CLI prints the same two texts
    assert cli_line(caught.value, 7) == f"barnflow: line 7: {en} | sv: {sv}"


def test_an_unknown_type_suggests_the_closest_known_types() -> None:
    assert closest("anmalan_motagen", EVENT_TYPES)[0] == "anmalan_mottagen"
    assert "beslut_fattat" in closest("beslut_fatat", EVENT_TYPES)
    with pytest.raises(EventValidationError) as caught:
        parse_event({**example_command("anmalan_mottagen"), "type": "utredning_inleed"})
    sv, en = caught.value.texts
    assert en == (
        "type: unknown event type 'utredning_inleed'; did you mean utredning_inledd, "
        "utredning_forlangd, utredning_avslutad?"
    )
    assert "utredning_inledd" in sv and sv.startswith("type: okänd händelsetyp")


def test_api_details_have_their_own_swedish() -> None:
    for detail in (
        "missing bearer token",
        "role operator may not send commands",
        "no report 'nej'; reports: frister, evb",
        "min_position: 9 is beyond the newest stored position 3",
        "line 3: data.barn: required for anmalan_mottagen",
    ):
        assert api_swedish(detail), detail
    sv, en = problem_texts(404, "something new")
    assert sv == f"{STATUS_SV[404]}: something new" and en == "something new"
    assert swedish("must be one of a, b") == "måste vara ett av a, b"


async def test_unknown_type_over_http_names_the_closest(
    http: httpx.AsyncClient, token: Token
) -> None:
    line = {**example_command("anmalan_mottagen"), "type": "anmalan_motagen"}
    r = await http.post("/commands", json=line, headers=token("handlaggare"))
    assert r.status_code == 422
    body = r.json()
    assert body["field"] == "type"
    assert "anmalan_mottagen" in body["en"] and "anmalan_mottagen" in body["sv"]
    assert len(body["en"]) < 200  # not a list of every type
    hook = await http.post(
        "/webhooks",
        json={"url": "http://127.0.0.1:9/x", "event_types": ["beslut_fatat"]},
        headers=token("system"),
    )
    assert hook.status_code == 422
    assert "beslut_fattat" in hook.json()["en"] and "beslut_fattat" in hook.json()["sv"]
    assert len(hook.json()["en"]) < 200
