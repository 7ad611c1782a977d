"""The catalogue of bad inputs: each gets its documented 4xx as problem+json naming the field or
rule, and the event store's rows are byte-identical before and after the whole catalogue."""

from __future__ import annotations

import dataclasses
import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import jwt
import orjson
import psycopg
import pytest
from psycopg import sql

from infra.api.texts import STATUS_SV
from infra.persistence.store import EVENTS_TABLE
from tests.api.cases import lifecycle
from tests.api.conftest import JWT_KEY, Token, new_pnr, new_ref
from tests.factories import earlier_today, line

REF = new_ref()
PNR = new_pnr()
OPENING = lifecycle(REF, PNR)[0]
NOW = datetime.now(UTC)


def cmd(etype: str, data: dict[str, Any], **kw: Any) -> dict[str, Any]:
    at = kw.pop("at", None) or earlier_today(within=timedelta(minutes=5))[0]
    return line(
        etype,
        data,
        at=at,
        key=kw.pop("key", f"bad-{time.monotonic_ns()}"),
        case_ref=kw.pop("case_ref", REF),
        **kw,
    )


def anmalan(**barn: Any) -> dict[str, Any]:
    ev = cmd(
        "anmalan_mottagen",
        {"anmalan_id": "anm-x", "barn": {"kon": "pojke", **barn}, "anmalare_kategori": "polis"},
        case_ref=new_ref(),
    )
    return ev


def edit(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = orjson.loads(orjson.dumps(base))
    for k, v in changes.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v
    return out


@dataclass
class Bad:
    name: str
    status: int
    body: Any = None
    raw: bytes | None = None
    method: str = "POST"
    path: str = "/commands"
    auth: Callable[[Token], dict[str, str]] = lambda t: t("handlaggare")
    field: str | None = None
    rule: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)


def _expired(t: Token) -> dict[str, str]:
    payload = {"sub": "x", "role": "system", "kommun": "1280", "units": [], "exp": 1}
    return {"Authorization": "Bearer " + jwt.encode(payload, JWT_KEY, algorithm="HS256")}


def _wrong_key(t: Token) -> dict[str, str]:
    payload = {
        "sub": "x",
        "role": "system",
        "kommun": "1280",
        "units": [],
        "exp": int(time.time()) + 60,
    }
    return {"Authorization": "Bearer " + jwt.encode(payload, b"k" * 32, algorithm="HS256")}


BESLUT = {
    "beslut_id": "b9",
    "lagrum": "SoL 11:1",
    "beslutstyp": "insats",
    "insats": "hvb",
    "gynnande": True,
    "delegat": {"id": "d", "roll": "utskott"},
}

CATALOGUE = [
    Bad(
        "invalid_personnummer",
        422,
        anmalan(personnummer="20120304-ABCD"),
        field="data.barn.personnummer",
    ),
    Bad("luhn_error", 422, anmalan(personnummer="201203041238"), field="data.barn.personnummer"),
    Bad(
        "impossible_birth_date",
        422,
        anmalan(personnummer="201213451234"),
        field="data.barn.personnummer",
    ),
    Bad(
        "both_personnummer_and_tillfalligt_id",
        422,
        anmalan(personnummer=PNR, tillfalligt_id="T-1"),
        field="data.barn",
    ),
    Bad(
        "bad_kon",
        422,
        edit(
            OPENING,
            data={**OPENING["data"], "barn": {"personnummer": PNR, "kon": "x"}},
            case_ref=new_ref(),
        ),
        field="data.barn.kon",
    ),
    Bad(
        "future_date",
        409,
        cmd(
            "skyddsbedomning_gjord",
            {"anmalan_id": "anm-1", "omedelbart_skydd": False},
            at=NOW + timedelta(days=3),
        ),
    ),
    Bad(
        "date_before_case",
        409,
        cmd(
            "skyddsbedomning_gjord",
            {"anmalan_id": "anm-1", "omedelbart_skydd": False},
            at=NOW - timedelta(days=30),
        ),
    ),
    Bad("unknown_type", 422, edit(OPENING, type="anmalan_mottagen_v2"), field="type"),
    Bad(
        "system_type",
        422,
        cmd("frist_overskriden", {"frist": "A2", "regel": "A2", "due": "2026-01-01"}),
        field="type",
    ),
    Bad("wrong_kommun", 403, edit(OPENING, kommun="0127", case_ref=new_ref()), field="kommun"),
    Bad(
        "forbidden_unit",
        403,
        edit(OPENING, case_ref=new_ref()),
        auth=lambda t: t("handlaggare", units=("barn-ost",)),
        field="data.enhet",
    ),
    Bad(
        "unit_bound_caller_on_other_units_case",
        403,
        cmd("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": True}),
        auth=lambda t: t("handlaggare", units=("barn-ost",)),
    ),
    Bad(
        "missing_idempotency_key", 422, edit(OPENING, idempotency_key=None), field="idempotency_key"
    ),
    Bad("empty_idempotency_key", 422, edit(OPENING, idempotency_key=""), field="idempotency_key"),
    Bad(
        "replayed_key_with_new_body",
        409,
        edit(OPENING, data={**OPENING["data"], "anmalare_kategori": "polis"}),
        rule="P-IDEMPOTENCY",
    ),
    Bad("oversized_body", 413, raw=b'{"kommun": "' + b"1" * 100_000 + b'"}'),
    Bad("malformed_json", 400, raw=b'{"kommun": "1280",'),
    Bad("json_array_instead_of_object", 422, raw=b"[1, 2, 3]"),
    Bad("empty_body", 422, raw=b""),
    Bad("unknown_envelope_field", 422, edit(OPENING, priority="high"), field="priority"),
    Bad(
        "unknown_data_field",
        422,
        edit(OPENING, data={**OPENING["data"], "namn": "Anna"}),
        field="data.namn",
    ),
    Bad(
        "missing_required_data_field",
        422,
        cmd("skyddsbedomning_gjord", {"anmalan_id": "anm-1"}),
        field="data.omedelbart_skydd",
    ),
    Bad(
        "string_for_boolean",
        422,
        cmd("skyddsbedomning_gjord", {"anmalan_id": "anm-1", "omedelbart_skydd": "nej"}),
        field="data.omedelbart_skydd",
    ),
    Bad(
        "naive_timestamp",
        422,
        edit(OPENING, occurred_at="2026-03-02T09:15:00"),
        field="occurred_at",
    ),
    Bad("not_a_timestamp", 422, edit(OPENING, occurred_at="igår"), field="occurred_at"),
    Bad("kommun_not_four_digits", 422, edit(OPENING, kommun="12a0"), field="kommun"),
    Bad("case_ref_too_long", 422, edit(OPENING, case_ref="x" * 500), field="case_ref"),
    Bad("actor_missing_roll", 422, edit(OPENING, actor={"id": "u1"}), field="actor.roll"),
    Bad(
        "beslut_without_delegat",
        422,
        cmd("beslut_fattat", {k: v for k, v in BESLUT.items() if k != "delegat"}),
        field="data.delegat",
    ),
    Bad("beslut_before_utredning", 409, cmd("beslut_fattat", BESLUT), rule="P-NO-UTREDNING"),
    Bad("verkstallighet_of_unknown_beslut", 409, cmd("insats_verkstalld", {"beslut_id": "nej"})),
    Bad(
        "command_on_unknown_case",
        409,
        cmd(
            "skyddsbedomning_gjord",
            {"anmalan_id": "anm-1", "omedelbart_skydd": False},
            case_ref=new_ref(),
        ),
        rule="P-OPEN",
    ),
    Bad("no_token", 401, edit(OPENING, case_ref=new_ref()), auth=lambda t: {}),
    Bad(
        "not_a_bearer_token",
        401,
        edit(OPENING, case_ref=new_ref()),
        auth=lambda t: {"Authorization": "Basic dXNlcjpwdw=="},
    ),
    Bad(
        "garbage_token",
        401,
        edit(OPENING, case_ref=new_ref()),
        auth=lambda t: {"Authorization": "Bearer not.a.jwt"},
    ),
    Bad("expired_token", 401, edit(OPENING, case_ref=new_ref()), auth=_expired),
    Bad("token_signed_with_other_key", 401, edit(OPENING, case_ref=new_ref()), auth=_wrong_key),
    Bad(
        "unknown_api_key",
        401,
        edit(OPENING, case_ref=new_ref()),
        auth=lambda t: {"Authorization": "Bearer bfk_nosuchkey"},
    ),
    Bad(
        "auditor_sends_command", 403, edit(OPENING, case_ref=new_ref()), auth=lambda t: t("auditor")
    ),
    Bad(
        "operator_sends_command",
        403,
        edit(OPENING, case_ref=new_ref()),
        auth=lambda t: t("operator"),
    ),
    Bad(
        "import_with_invalid_line",
        422,
        path="/import",
        raw=orjson.dumps(edit(OPENING, case_ref=new_ref()))
        + b"\n"
        + orjson.dumps(edit(OPENING, case_ref=new_ref(), type="nej"))
        + b"\n",
        auth=lambda t: t("system"),
        headers={"Content-Type": "application/x-ndjson"},
    ),
    Bad(
        "import_into_other_kommun",
        403,
        path="/import",
        raw=orjson.dumps(edit(OPENING, kommun="0127", case_ref=new_ref())) + b"\n",
        auth=lambda t: t("system"),
        headers={"Content-Type": "application/x-ndjson"},
    ),
    Bad(
        "import_by_handlaggare",
        403,
        path="/import",
        raw=b"{}\n",
        headers={"Content-Type": "application/x-ndjson"},
    ),
    Bad(
        "webhook_with_ftp_url",
        422,
        {"url": "ftp://example.test/x", "event_types": ["frist_overskriden"]},
        path="/webhooks",
        auth=lambda t: t("system"),
        field="url",
    ),
    Bad(
        "webhook_unknown_event_type",
        422,
        {"url": "http://127.0.0.1:9/x", "event_types": ["nej"]},
        path="/webhooks",
        auth=lambda t: t("system"),
    ),
    Bad(
        "unknown_kvartal_spelling",
        422,
        cmd(
            "evb_rapporterad",
            {"beslut_id": "b9", "kvartal": "tredje kvartalet 2026", "rapport": "individrapport"},
        ),
        field="data.kvartal",
    ),
    Bad(
        "unknown_lvu_dom_utfall",
        422,
        cmd("lvu_dom", {"utfall": "delvis", "beslut_id": "L9"}),
        field="data.utfall",
    ),
    Bad("method_not_allowed", 405, OPENING, method="PUT"),
    Bad("unknown_path", 404, OPENING, path="/kommands"),
]


def dump(pg_url: str, schema: str) -> str:
    """A digest of every stored event row (ids, versions, topics, encrypted state)."""
    with psycopg.connect(pg_url) as conn:
        rows = conn.execute(
            sql.SQL("SELECT * FROM {}.{} ORDER BY notification_id").format(
                sql.Identifier(schema), sql.Identifier(EVENTS_TABLE)
            )
        ).fetchall()
    return hashlib.sha256(repr(rows).encode()).hexdigest() + f"/{len(rows)}"


def _names(field: str | None, problem: dict[str, Any]) -> bool:
    """A 422 names its field in both languages."""
    return field is None or (field in problem["sv"] and field in problem["en"])


@pytest.fixture(scope="module")
async def existing_case(http: httpx.AsyncClient, token: Token) -> None:
    r = await http.post("/commands", json=OPENING, headers=token("handlaggare"))
    assert r.status_code == 201, r.text


def test_the_catalogue_is_large_and_named_uniquely() -> None:
    names = [b.name for b in CATALOGUE]
    assert len(names) >= 30 and len(set(names)) == len(names)


async def test_every_bad_input_is_refused_in_both_languages_and_nothing_is_stored(
    existing_case: None, http: httpx.AsyncClient, token: Token, pg_url: str, api_schema: str
) -> None:
    before = dump(pg_url, api_schema)
    wrong = []
    for bad in CATALOGUE:
        headers = {**bad.auth(token), **bad.headers}
        if bad.raw is not None:
            headers.setdefault("Content-Type", "application/json")
            r = await http.request(bad.method, bad.path, content=bad.raw, headers=headers)
        else:
            r = await http.request(bad.method, bad.path, json=bad.body, headers=headers)
        problem = r.json() if r.headers.get("content-type") == "application/problem+json" else {}
        ok = (
            r.status_code == bad.status
            and problem.get("status") == bad.status
            and (bad.field is None or problem.get("field") == bad.field)
            and (bad.rule is None or problem.get("rule") == bad.rule)
            and bool(problem.get("sv") and problem.get("en"))
            and problem["sv"] != problem["en"]  # Swedish of its own, not the English again
            and not problem["sv"].startswith(tuple(f"{s}: " for s in STATUS_SV.values()))
            and (bad.status != 422 or _names(bad.field, problem))
        )
        if not ok:
            wrong.append((bad.name, r.status_code, r.text[:300]))
    assert wrong == []
    assert dump(pg_url, api_schema) == before
