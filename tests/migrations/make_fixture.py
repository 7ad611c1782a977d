"""Make ``fixtures/b0a7168.sql``: the schema of a store created by release b0a7168 (the last
release without schema versions), one PostgreSQL schema per golden scenario.

Run it with that release's code and venv, not this one's::

    git worktree add /tmp/prev b0a7168
    cd /tmp/prev && python3 -m venv .venv && .venv/bin/pip install -q -e '.[test]'
    .venv/bin/python /path/to/repo/tests/migrations/make_fixture.py /path/to/repo

It loads each golden ``<scenario>.jsonl`` store-only (as the golden test does), lets that release
build its views and create its API, attempts and ops-log tables, and dumps the schemas as plain
SQL (``pg_dump --schema``, no owner, no privileges). The cipher key is the tests' key.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from domain.calendar import STOCKHOLM
from infra.ops.repair import ensure_ops_log
from infra.persistence.db import ensure_tables
from infra.persistence.embedded_pg import embedded_postgres
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore, ensure_schema, eventsourcing_env
from infra.temporal.attempts import ensure_table as ensure_attempts
from projections.runner import caught_up

CIPHER_KEY = b"s" * 32  # tests.conftest.CIPHER_KEY
LOADED_AT = datetime(2026, 11, 20, 12, 0, tzinfo=STOCKHOLM)
LOADED_AT_BY_SCENARIO = {"lvu2027": datetime(2027, 8, 1, 12, 0, tzinfo=STOCKHOLM)}
#: The golden scenarios that release can load (lvu2027 uses event fields added after it).
SCENARIOS = ("evb", "frister", "utredningar")
PREFIX = "bf_prev_"


def main(repo: Path) -> None:
    golden = repo / "tests" / "golden"
    out = repo / "tests" / "migrations" / "fixtures" / "b0a7168.sql"
    with tempfile.TemporaryDirectory(prefix="bf-prev-") as tmp, embedded_postgres(Path(tmp)) as url:
        for scenario in SCENARIOS:
            schema = PREFIX + scenario
            ensure_schema(url, schema)
            env = eventsourcing_env(url, schema, CIPHER_KEY)
            store = CaseStore(env=env)
            lines = (golden / f"{scenario}.jsonl").read_text(encoding="utf-8").splitlines()
            import_lines(store, lines, now=LOADED_AT_BY_SCENARIO.get(scenario, LOADED_AT))
            ensure_tables(store)
            ensure_attempts(store)
            ensure_ops_log(url, schema)
            with caught_up(env):
                pass
            store.close()
        pg_dump = Path(__import__("embedded_postgres").__file__).parent / "pginstall/bin/pg_dump"
        args = [str(pg_dump), "--no-owner", "--no-privileges", "--format=plain", "-d", url]
        for scenario in SCENARIOS:
            args += ["--schema", PREFIX + scenario]
        dump = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    out.write_text(dump, encoding="utf-8")
    print(f"wrote {out} ({len(dump)} characters)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
