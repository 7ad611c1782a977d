"""Building the CLI's parser imports no server framework, no Temporal worker and no store.

Every ``barnflow`` command builds the whole parser first (``--help`` does nothing else), and the
test suite alone runs ~150 CLI subprocesses: the parser used to import fastapi, temporalio's
worker and the store for each (~1 s of CPU). The imports now happen in the command that needs
them (docs/operations.md "CLI start-up"; bench/cli_start.py measures it).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from infra.cli.errors import if_imported
from infra.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]

#: imported by a command that needs them, never by building the parser
HEAVY = (
    "fastapi",
    "uvicorn",
    "temporalio.worker",
    "temporalio.client",
    "temporalio.contrib.opentelemetry",
    "matplotlib",
    "weasyprint",
    "infra.persistence.store",
    "projections.reports",
    "pydantic_settings",
)


def test_building_the_parser_imports_none_of_the_heavy_modules() -> None:
    code = (
        "import json, sys\n"
        "from infra.cli.main import build_parser\n"
        "build_parser()\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    loaded = set(json.loads(run.stdout))
    assert {"infra.cli.report", "infra.cli.keys", "infra.temporal.codec_server"} <= loaded
    assert [name for name in HEAVY if name in loaded] == []


def _parse(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with (
        contextlib.redirect_stdout(out),
        contextlib.redirect_stderr(err),
        pytest.raises(SystemExit) as exited,
    ):
        build_parser().parse_args(argv)
    return int(exited.value.code or 0), out.getvalue(), err.getvalue()


def test_report_help_and_choices_still_list_every_report() -> None:
    """The report names are read when needed (``infra.cli.lazy``): the help still lists each
    with its period flag, and an unknown name is refused naming the valid ones."""
    code, out, _ = _parse(["report", "--help"])
    assert code == 0
    assert "  evb                    --quarter  " in out
    assert "{access-log," in out and ",freeze,kvartal}" in out
    code, _, err = _parse(["report", "evbx", "--kommun", "1280"])
    assert code == 2
    assert "invalid choice: 'evbx' (choose from 'access-log'" in err
    code, _, err = _parse(
        ["token", "create", "--role", "chef", "--kommun", "1280", "--subject", "x"]
    )
    assert code == 2
    assert "invalid choice: 'chef' (choose from 'system', 'handlaggare'" in err


def test_if_imported_names_only_classes_of_loaded_modules() -> None:
    """The entry point's ``except`` clauses: a module never imported has raised nothing."""
    assert if_imported(("json", "JSONDecodeError"), ("barnflow_no_such_module", "Error")) == (
        json.JSONDecodeError,
    )
    assert if_imported(("barnflow_no_such_module", "Error")) == ()
