"""The archive package of what gallring keeps (E-ARK CSIP/SIP, FGS Paketstruktur): every file
listed in METS with its SHA-256, the placement and the research sample in it, nothing that is
due for gallring, the export logged; a changed byte is found (real PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from xml.etree import ElementTree as ET

import psycopg
from psycopg import sql

from infra.ops.archive import METS_NS, check_package, export_kept
from infra.persistence.access_log import TABLE
from infra.persistence.store import CaseStore
from tests.projections.test_retention_plan import backdated_store


def test_archive_package_of_what_is_kept(
    store: CaseStore, pg_url: str, schema: str, tmp_path: Path
) -> None:
    backdated_store(store)
    result = export_kept(store, "1280", tmp_path, as_of=date(2026, 11, 30), who="ark1",
                         role="arkivarie", pseudonym_key=b"p" * 32,
                         now=datetime(2026, 11, 30, 9, tzinfo=UTC))  # fmt: skip
    root = result.path
    assert check_package(root) == []
    assert (root / "representations" / "rep1" / "METS.xml").is_file()
    mets = ET.parse(root / "METS.xml").getroot()
    assert mets.tag == f"{{{METS_NS}}}mets" and "E-ARK-SIP" in (mets.get("PROFILE") or "")
    data = root / "representations" / "rep1" / "data"
    assert sorted(p.name for p in data.iterdir()) == ["VS-15.jsonl", "VS-P.jsonl"]
    placed = [json.loads(x) for x in (data / "VS-P.jsonl").read_text().splitlines()]
    assert {e["type"] for e in placed} == {"beslut_fattat", "vardplan_upprattad", "beslut_avslutat"}
    sample = [json.loads(x) for x in (data / "VS-15.jsonl").read_text().splitlines()]
    assert sample[0]["type"] == "anmalan_mottagen" and sample[0]["data"]["barn"]["personnummer"]
    with psycopg.connect(pg_url) as conn:
        purposes = conn.execute(
            sql.SQL("SELECT purpose, who FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(TABLE)
            )
        ).fetchall()
    assert sorted(purposes) == [("arkivering", "ark1")] * 2

    # one changed byte, one extra file: both named
    f = data / "VS-P.jsonl"
    f.write_text(f.read_text().replace("hemflytt", "hemflyt!"))
    (data / "extra.json").write_text("{}")
    assert check_package(root) == [
        "representations/rep1/data/VS-P.jsonl: checksum or size does not match METS.xml",
        "representations/rep1/data/extra.json: not in METS.xml",
    ]
