"""docs/integration.md's copy-paste examples work: its command is accepted by the one
validator, its Python compiles, and its error example is what barnflow answers for that line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from domain.errors import EventValidationError
from domain.events import parse_event
from infra.temporal.rejections import answer

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "integration.md").read_text()


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", GUIDE, re.DOTALL)


def test_the_guides_command_is_accepted() -> None:
    bodies = [m for b in _blocks("bash") for m in re.findall(r"-d '(\{.*?\})'", b, re.DOTALL)]
    commands = [json.loads(b) for b in bodies if '"type"' in b]
    assert commands
    for line in commands:
        assert parse_event(line).type == line["type"]


def test_the_guides_python_compiles() -> None:
    blocks = _blocks("python")
    assert len(blocks) >= 4
    for block in blocks:
        compile(block, "docs/integration.md", "exec")


def test_the_guides_error_example_is_what_barnflow_answers() -> None:
    [example] = [json.loads(b) for b in _blocks("json")]
    bodies = [m for b in _blocks("bash") for m in re.findall(r"-d '(\{.*?\})'", b, re.DOTALL)]
    line = next(json.loads(b) for b in bodies if "anmalan_mottagen" in b)
    del line["data"]["barn"]
    try:
        parse_event(line)
    except EventValidationError as exc:
        got = answer(exc)
    else:
        raise AssertionError("a line without barn was accepted")
    assert got.status == example["status"]
    assert got.detail == example["detail"]
    assert {k: got.members[k] for k in ("field", "sv", "en")} == {
        k: example[k] for k in ("field", "sv", "en")
    }
