"""The event contract in docs/openapi.json is the one in domain/events.py: every type and field
described (Swedish term + English) with an example, every example accepted by both the
document's schema and ``parse_event``, no free-form ``data``, and a document that validates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from domain.errors import EventValidationError
from domain.event_docs import missing_docs
from domain.events import EVENT_TYPES, SYSTEM_TYPES, parse_event
from infra.api.contract import camel, example_command

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"
SPEC: dict[str, Any] = orjson.loads(DOC.read_bytes())
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]


def _validator(name: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator of one component, its $refs resolved in the document."""
    return Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": SPEC["components"]},
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


COMMAND = _validator("CommandIn")
EVENT = _validator("Event")


def test_every_event_type_and_field_is_described_with_an_example() -> None:
    missing = missing_docs()
    assert not missing, (
        "describe these in domain/event_docs.py (TYPE_DOCS, FIELD_DOCS or TYPE_FIELD_DOCS; "
        "FIELD_EXAMPLES or TYPE_FIELD_EXAMPLES):\n  " + "\n  ".join(missing)
    )


def test_the_document_validates_as_openapi_3_1() -> None:
    assert SPEC["openapi"].startswith("3.1")
    validate(SPEC)  # raises with the first error


@pytest.mark.parametrize("etype", sorted(EVENT_TYPES))
def test_each_types_example_is_accepted_by_the_schema_and_by_parse_event(etype: str) -> None:
    line = example_command(etype)
    parsed = parse_event(line, allow_system=etype in SYSTEM_TYPES)
    assert parsed.type == etype
    stored = {**parsed.to_json(), "position": 1, "case_id": "c"}
    assert not list(EVENT.iter_errors(stored)), [e.message for e in EVENT.iter_errors(stored)]
    if etype in SYSTEM_TYPES:
        assert not COMMAND.is_valid(line), f"{etype} is written by barnflow only"
        return
    errors = [e.message for e in COMMAND.iter_errors(line)]
    assert not errors, errors
    assert SCHEMAS[f"{camel(etype)}Command"]["examples"] == [line]


@pytest.mark.parametrize("etype", sorted(t for t, s in EVENT_TYPES.items() if s))
def test_schema_and_parse_event_refuse_the_same_broken_data(etype: str) -> None:
    """An unknown field, a missing required field and a value outside an enum: both refuse."""
    spec = EVENT_TYPES[etype]
    line = example_command(etype)
    broken = [{**line, "data": {**line["data"], "no_such_field": "x"}}]
    for name, field in spec.items():
        if field.required:
            data = {k: v for k, v in line["data"].items() if k != name}
            broken.append({**line, "data": data})
        if field.choices is not None:
            broken.append({**line, "data": {**line["data"], name: "not-a-choice"}})
    validator = EVENT if etype in SYSTEM_TYPES else COMMAND
    for bad in broken:
        with pytest.raises(EventValidationError):
            parse_event(bad, allow_system=True)
        assert not validator.is_valid(bad), bad["data"]


def _data_schemas(node: Any, path: str = "$") -> list[tuple[str, Any]]:
    """Every schema of a property named ``data`` anywhere in the document."""
    found: list[tuple[str, Any]] = []
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and "data" in props:
            found.append((path, props["data"]))
        for key, value in node.items():
            found += _data_schemas(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _data_schemas(value, f"{path}[{i}]")
    return found


def _resolve(schema: dict[str, Any]) -> list[dict[str, Any]]:
    if "$ref" in schema:
        return _resolve(SCHEMAS[schema["$ref"].rsplit("/", 1)[1]])
    alternatives = schema.get("anyOf", []) + schema.get("oneOf", [])
    return [s for alt in alternatives for s in _resolve(alt)] or [schema]


def test_no_data_in_the_document_is_a_free_form_object() -> None:
    found = _data_schemas(SPEC)
    assert len(found) >= 2 * len(EVENT_TYPES) - len(SYSTEM_TYPES)  # commands, stored events
    for path, schema in found:
        for target in _resolve(schema):
            if target.get("type") == "null":
                continue
            assert target.get("additionalProperties") is False, path
            assert "properties" in target, path
            for name, prop in target["properties"].items():
                assert prop.get("description"), f"{path}.{name}: no description"
                assert {"type", "enum", "$ref", "anyOf"} & set(prop), f"{path}.{name}: untyped"


def test_unions_are_discriminated_on_type_and_cover_every_type() -> None:
    commands = SCHEMAS["CommandIn"]["discriminator"]
    assert commands["propertyName"] == "type"
    assert set(commands["mapping"]) == set(EVENT_TYPES) - SYSTEM_TYPES
    events = SCHEMAS["Event"]["discriminator"]
    assert set(events["mapping"]) == set(EVENT_TYPES)
    assert SCHEMAS["ReportOut"]["discriminator"]["propertyName"] == "report"
    delivery = SPEC["webhooks"]["caseEvent"]["post"]["requestBody"]["content"]
    assert delivery["application/cloudevents+json"]["schema"]["$ref"].endswith("/CloudEvent")
    assert delivery["application/json"]["schema"]["$ref"].endswith("/WebhookDelivery")
