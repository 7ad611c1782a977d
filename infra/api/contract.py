"""The event contract as OpenAPI 3.1 schemas, generated from ``domain.events`` (no second copy).

``domain.events.EVENT_TYPES`` is the one definition of the event types and their fields; this
module turns each type into typed JSON Schemas (its ``data``, the command that sends it, the
stored event that comes back) and joins them in unions discriminated on ``type``. The words
(Swedish term + English) and examples come from ``domain.event_docs``. A field kind this module
does not know raises ``KeyError`` at generation, so a new kind cannot slip into the document as
a free object: the drift test fails first.

The runtime still validates with ``domain.events.parse_event`` (one validator, 422 naming the
field); these schemas describe exactly what it accepts, and the examples are checked by both.
"""

from __future__ import annotations

from typing import Any

from domain.cloudevents import MEDIA_TYPE as CLOUDEVENTS_MEDIA_TYPE
from domain.event_docs import TYPE_DOCS, example_data, field_doc
from domain.events import (
    ENVELOPE_FIELDS,
    EVENT_TYPES,
    KON,
    LVU_UTFALL,
    LVU_UTFALL_SPELLINGS,
    MAX_TEXT,
    SYSTEM_TYPES,
    FieldSpec,
)
from domain.homes import HOME_EVENT_TYPES

REF = "#/components/schemas/"
#: The example envelope of every command example (a fictitious case of kommun 1280).
EXAMPLE_ENVELOPE: dict[str, Any] = {
    "kommun": "1280",
    "case_ref": "VS-2026-00417",
    "occurred_at": "2026-03-02T09:15:00+01:00",
    "actor": {"id": "hl-4711", "roll": "socialsekreterare"},
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"{REF}{name}"}


def camel(etype: str) -> str:
    """``anmalan_mottagen`` -> ``AnmalanMottagen`` (schema names of one type)."""
    return "".join(part.capitalize() for part in etype.split("_"))


def _text(max_len: int = MAX_TEXT) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_len}


#: The JSON Schema of each ``FieldSpec.kind`` (choices of a ``str`` field become an enum).
KIND_SCHEMAS: dict[str, dict[str, Any]] = {
    "str": _text(),
    "label": {
        "type": "string",
        "pattern": "^[a-z][a-z0-9_]{0,39}$",
        "description": "a role label (a-z, 0-9, _), never a name",
    },
    "bool": {"type": "boolean"},
    "key_ids": {
        "type": "string",
        "pattern": "^(?:[a-z]{1,8}-)?[0-9a-f]{6,64}(?:,(?:[a-z]{1,8}-)?[0-9a-f]{6,64})*$",
        "description": "barnflow's key ids: hex digits with an optional prefix, comma-separated",
    },
    "hem_id": {"type": "string", "pattern": "^[A-Za-z0-9_.:-]{1,64}$"},
    "kommunkod": {"type": "string", "pattern": "^\\d{4}$"},
    "number": {"type": "number", "minimum": 0},
    "date": {"type": "string", "format": "date", "maxLength": 32},
    "barn": _ref("Barn"),
    "delegat": _ref("Delegat"),
    "kvartal": {
        "type": "string",
        "minLength": 1,
        "maxLength": 32,
        "examples": ["2026Q3"],
    },
    "lvu_utfall": {
        "type": "string",
        "enum": sorted(LVU_UTFALL_SPELLINGS, key=lambda s: (s not in LVU_UTFALL, s)),
    },
}


def field_schema(etype: str, name: str, spec: FieldSpec) -> dict[str, Any]:
    """One data field: its kind's schema, its enum, its description and its example."""
    base = dict(KIND_SCHEMAS[spec.kind])
    if spec.choices is not None:
        base = {"type": "string", "enum": list(spec.choices)}
    doc = field_doc(etype, name)
    if "$ref" in base:  # 3.1 allows siblings of $ref; keep the description next to it
        return {**base, "description": doc} if doc else base
    if doc:
        base["description"] = doc
    return base


def data_schema(etype: str) -> dict[str, Any]:
    """The ``data`` object of one event type (a case's or a home's): its fields, required
    ones, nothing else."""
    spec = EVENT_TYPES[etype] if etype in EVENT_TYPES else HOME_EVENT_TYPES[etype]
    schema: dict[str, Any] = {
        "type": "object",
        "title": f"{camel(etype)}Data",
        "description": f"data of {etype}: {TYPE_DOCS.get(etype, etype)}",
        "properties": {name: field_schema(etype, name, f) for name, f in spec.items()},
        "additionalProperties": False,
        "examples": [example_data(etype)],
    }
    required = [name for name, f in spec.items() if f.required]
    if required:
        schema["required"] = required
    return schema


def example_command(etype: str) -> dict[str, Any]:
    """A whole command line of ``etype`` that ``parse_event`` accepts."""
    return {
        **EXAMPLE_ENVELOPE,
        "type": etype,
        "idempotency_key": f"vs-2026-00417-{etype.replace('_', '-')}-1",
        "data": example_data(etype),
    }


def _envelope(etype: str) -> dict[str, Any]:
    return {
        "kommun": {
            "type": "string",
            "pattern": r"^\d{4}$",
            "description": "Kommunkod — the kommun's 4-digit code",
        },
        "case_ref": {
            **_text(128),
            "description": "Ärendereferens — the case's reference in the calling system",
        },
        "type": {"type": "string", "const": etype, "description": TYPE_DOCS.get(etype, etype)},
        "occurred_at": {
            "type": "string",
            "format": "date-time",
            "maxLength": 64,
            "description": "Händelsetid — legal time with a UTC offset; its date in "
            "Europe/Stockholm is what the law counts from",
        },
    }


def command_schema(etype: str) -> dict[str, Any]:
    """One command: the envelope and the type's ``data`` (what ``POST /commands`` takes)."""
    props = {
        **_envelope(etype),
        "actor": _ref("Actor"),
        "idempotency_key": {
            **_text(200),
            "description": "Idempotensnyckel — the same key and body return the original result",
        },
        "data": _ref(f"{camel(etype)}Data"),
    }
    required = ["kommun", "case_ref", "type", "occurred_at", "actor", "idempotency_key"]
    if any(f.required for f in EVENT_TYPES[etype].values()):
        required.append("data")  # parse_event reads a missing data as {}
    return {
        "type": "object",
        "title": f"{camel(etype)}Command",
        "description": TYPE_DOCS.get(etype, etype),
        "properties": props,
        "required": required,
        "additionalProperties": False,
        "examples": [example_command(etype)],
    }


def _nullable(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}], "description": description}


WITHHELD = "null when the caller may not read content (operator)"


def event_schema(etype: str) -> dict[str, Any]:
    """One stored event: the command's fields plus what barnflow added when it recorded it."""
    props = {
        **_envelope(etype),
        "actor": _nullable(_ref("Actor"), f"who did it; {WITHHELD}"),
        "idempotency_key": _nullable({"type": "string"}, f"the command's key; {WITHHELD}"),
        "data": _nullable(_ref(f"{camel(etype)}Data"), f"the event's data; {WITHHELD}"),
        "case_id": _nullable({"type": "string"}, "barnflow's id of the case"),
        "position": _nullable(
            {"type": "integer", "minimum": 1}, "the event's gap-free position in the feed"
        ),
        "recorded_at": _nullable(
            {"type": "string", "format": "date-time"}, "system time: when barnflow recorded it"
        ),
        "digest": _nullable({"type": "string"}, "the stream's hash-chain link over this event"),
        "delegation": _nullable(
            _ref("DelegationJudgement"),
            "a decision's judgement against the kommun's delegationsordning (set by barnflow)",
        ),
    }
    assert set(props) == ENVELOPE_FIELDS, "envelope fields and the stored event schema differ"
    return {
        "type": "object",
        "title": f"{camel(etype)}Event",
        "description": TYPE_DOCS.get(etype, etype),
        "properties": props,
        "required": ["kommun", "case_ref", "type", "occurred_at"],
        "additionalProperties": False,
    }


def _union(names: dict[str, str], description: str) -> dict[str, Any]:
    return {
        "description": description,
        "oneOf": [_ref(n) for n in names.values()],
        "discriminator": {
            "propertyName": "type",
            "mapping": {t: f"{REF}{n}" for t, n in names.items()},
        },
    }


def _common() -> dict[str, dict[str, Any]]:
    return {
        "Actor": {
            "type": "object",
            "description": "Aktör — who did it: the handläggare's id in the calling system and "
            "their role (no name)",
            "properties": {"id": _text(128), "roll": _text(64)},
            "required": ["id", "roll"],
            "additionalProperties": False,
        },
        "Delegat": {
            "type": "object",
            "description": "Delegat — who made a decision: id and role (judged against the "
            "kommun's delegationsordning)",
            "properties": {"id": _text(128), "roll": _text(64)},
            "required": ["id", "roll"],
            "additionalProperties": False,
            "examples": [{"id": "hl-4711", "roll": "sektionschef"}],
        },
        "Barn": {
            "type": "object",
            "description": "Barnet — the child. Give exactly one of personnummer (12 or 10 "
            "digits, with or without '-', valid check digit) or tillfalligt_id (a temporary "
            "id); kön is required, födelsedatum is derived from the personnummer when absent",
            "properties": {
                "personnummer": {**_text(64), "examples": ["201203142383"]},
                "tillfalligt_id": _text(64),
                "kon": {"type": "string", "enum": list(KON), "description": "Kön — sex"},
                "fodelsedatum": {
                    "type": "string",
                    "format": "date",
                    "description": "Födelsedatum — birth date",
                },
            },
            "required": ["kon"],
            "additionalProperties": False,
        },
        "DelegationJudgement": {
            "type": "object",
            "description": "barnflow's judgement of a decision against the kommun's "
            "delegationsordning: decision code, delegat, the configuration version and ordning "
            "that judged it, the point, the level it needed and utfall behorig / obehorig / "
            "ej_provad (docs/delegationsordning.md)",
            "properties": {
                "utfall": {"type": "string", "enum": ["behorig", "obehorig", "ej_provad"]},
            },
            "additionalProperties": True,
        },
    }


def contract_schemas() -> dict[str, dict[str, Any]]:
    """Every component schema of the event contract, by name.

    ``CommandIn`` (what ``POST /commands`` takes: the types a calling system may send) and
    ``Event`` (what every read returns: all types) are unions discriminated on ``type``.
    """
    out = _common()
    commands: dict[str, str] = {}
    events: dict[str, str] = {}
    for etype in EVENT_TYPES:
        name = camel(etype)
        out[f"{name}Data"] = data_schema(etype)
        out[f"{name}Event"] = event_schema(etype)
        events[etype] = f"{name}Event"
        if etype not in SYSTEM_TYPES:
            out[f"{name}Command"] = command_schema(etype)
            commands[etype] = f"{name}Command"
    out["CommandIn"] = _union(
        commands,
        "One command: an event line of one of the types a calling system may send, "
        "discriminated on `type`; `data` per type",
    )
    out["Event"] = _union(
        events,
        "A stored event (every type, barnflow's own included), discriminated on `type`",
    )
    return out


def home_schemas() -> dict[str, dict[str, Any]]:
    """``HomeCommandIn`` (what ``POST /homes/commands`` takes): one schema per home event type of
    ``domain.homes.HOME_EVENT_TYPES``, its envelope naming ``hem_id`` where a case line names
    ``case_ref``, discriminated on ``type``."""
    out: dict[str, dict[str, Any]] = {}
    commands: dict[str, str] = {}
    for etype, spec in HOME_EVENT_TYPES.items():
        name = camel(etype)
        out[f"{name}Data"] = data_schema(etype)
        envelope = {k: v for k, v in _envelope(etype).items() if k != "case_ref"}
        envelope["hem_id"] = {
            **_text(64),
            "description": "Hem — the home's id in the nämnd's register (the calling system's)",
        }
        required = ["kommun", "hem_id", "type", "occurred_at", "actor", "idempotency_key"]
        if any(f.required for f in spec.values()):
            required.append("data")
        out[f"{name}HomeCommand"] = {
            "type": "object",
            "title": f"{name}HomeCommand",
            "description": TYPE_DOCS.get(etype, etype),
            "properties": {
                **envelope,
                "actor": _ref("Actor"),
                "idempotency_key": {
                    **_text(200),
                    "description": "Idempotensnyckel — the same key and body return the "
                    "original result",
                },
                "data": _ref(f"{name}Data"),
            },
            "required": required,
            "additionalProperties": False,
        }
        commands[etype] = f"{name}HomeCommand"
    out["HomeCommandIn"] = _union(
        commands, "One home line (docs/domain.md §4.11), discriminated on `type`; `data` per type"
    )
    return out


def report_schemas() -> dict[str, dict[str, Any]]:
    """``ReportOut``: one schema per report of ``projections.reports.REPORTS`` (its period kind
    and its columns as the rows' properties), discriminated on ``report``."""
    from projections.reports import REPORTS

    out: dict[str, dict[str, Any]] = {
        "ReportPeriod": {
            "type": "object",
            "description": "The report's period (as_of, quarter, half or month)",
            "properties": {
                "kind": {"type": "string", "enum": ["as_of", "quarter", "half", "month"]},
                "label": {"type": "string", "examples": ["2026Q2"]},
                "start": {"type": "string", "format": "date"},
                "end": {"type": "string", "format": "date"},
            },
            "required": ["kind", "label", "start", "end"],
        }
    }
    names: dict[str, str] = {}
    for name, spec in REPORTS.items():
        schema_name = f"Report{camel(name.replace('-', '_'))}"
        names[name] = schema_name
        out[schema_name] = {
            "type": "object",
            "title": schema_name,
            "description": f"{spec.title} ({name}; takes a {spec.period} period)",
            "properties": {
                "report": {"type": "string", "const": name},
                "title": {"type": "string"},
                "kommun": {"type": "string", "pattern": r"^\d{4}$"},
                "period": _ref("ReportPeriod"),
                "known_at": {"type": ["string", "null"], "format": "date-time"},
                "columns": {"type": "array", "items": {"type": "string", "enum": [*spec.columns]}},
                "kommun_config": {"type": ["string", "null"]},
                "rows": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "description": f"one row of {name}: the report's columns (CSV order)",
                        "properties": {c: {"description": c} for c in spec.columns},
                    },
                },
            },
            "required": ["report", "kommun", "rows"],
        }
    out["ReportOut"] = {
        "description": "A report of docs/domain.md §5, discriminated on `report`",
        "oneOf": [_ref(n) for n in names.values()],
        "discriminator": {
            "propertyName": "report",
            "mapping": {r: f"{REF}{n}" for r, n in names.items()},
        },
    }
    return out


def webhook_schemas() -> dict[str, dict[str, Any]]:
    """The bodies barnflow POSTs to a subscriber (``activities.webhooks``) and the feed's
    CloudEvents (``domain.cloudevents``)."""
    return {
        "CloudEvent": {
            "type": "object",
            "description": "A stored event as a CloudEvents 1.0 event (structured JSON mode)",
            "properties": {
                "specversion": {"type": "string", "const": "1.0"},
                "id": {
                    "type": "string",
                    "pattern": r"^[1-9]\d*$",
                    "description": "the event's gap-free position (the same on every retry)",
                },
                "source": {
                    "type": "string",
                    "pattern": r"^/barnflow/kommun/\d{4}$",
                    "description": "the kommun: /barnflow/kommun/<kommunkod>",
                },
                "type": {"type": "string", "enum": list(EVENT_TYPES)},
                "subject": {"type": "string", "description": "the case's reference (case_ref)"},
                "time": {"type": "string", "format": "date-time", "description": "occurred_at"},
                "datacontenttype": {"type": "string", "const": "application/json"},
                "data": _ref("Event"),
            },
            "required": ["specversion", "id", "source", "type", "subject", "time", "data"],
            "additionalProperties": False,
        },
        "WebhookDelivery": {
            "type": "object",
            "description": "The deprecated barnflow-v1 body (subscriptions with format "
            "barnflow-v1; docs/api.md): one event, de-duplicate by position",
            "deprecated": True,
            "properties": {
                "subscription_id": {"type": "string", "format": "uuid"},
                "position": {"type": "integer", "minimum": 1},
                "event": _ref("Event"),
            },
            "required": ["subscription_id", "position", "event"],
            "additionalProperties": False,
        },
    }


def webhooks_section() -> dict[str, Any]:
    """OpenAPI 3.1 ``webhooks``: what a subscriber receives and must answer."""
    header = {"required": True, "schema": {"type": "string"}}
    legacy = {**header, "required": False, "deprecated": True}
    return {
        "caseEvent": {
            "post": {
                "summary": "One event of a subscribed type, POSTed to the subscription's url",
                "description": "A CloudEvents 1.0 event (Content-Type "
                "application/cloudevents+json), or the deprecated barnflow-v1 body for a "
                "subscription in that format. Signed per Standard Webhooks with the "
                "subscription's signing_secret (webhook-id, webhook-timestamp, "
                "webhook-signature: verify with any Standard Webhooks library); the "
                "X-Barnflow-* headers of the barnflow-v1 scheme are sent as well while it is "
                "deprecated. Answer 2xx to acknowledge; anything else (or no answer) is retried "
                "with backoff, so de-duplicate by webhook-id. See docs/integration.md.",
                "operationId": "receiveCaseEvent",
                "parameters": [
                    {"name": "webhook-id", "in": "header", **header},
                    {"name": "webhook-timestamp", "in": "header", **header},
                    {"name": "webhook-signature", "in": "header", **header},
                    {"name": "X-Barnflow-Timestamp", "in": "header", **legacy},
                    {"name": "X-Barnflow-Position", "in": "header", **legacy},
                    {"name": "X-Barnflow-Signature", "in": "header", **legacy},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        CLOUDEVENTS_MEDIA_TYPE: {"schema": _ref("CloudEvent")},
                        "application/json": {"schema": _ref("WebhookDelivery")},
                    },
                },
                "responses": {"200": {"description": "received (any 2xx)"}},
            }
        }
    }
