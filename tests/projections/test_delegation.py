"""Decisions judged by the ordning of their own era, and a new configuration version never
re-judging them (issue 14, item 3): history imported under one version keeps its judgement
(version id, ordning, outcome) when the nämnd's next version is loaded and the views are folded
again; the delegationsbeslut list follows the kommun's sammanträden."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import orjson

from domain.calendar import STOCKHOLM
from infra.audit.case import AuditQuery, case_audit
from infra.persistence.importer import import_lines
from infra.persistence.store import CaseStore, eventsourcing_env
from projections.periods import parse_period
from projections.reports import REPORTS
from projections.runner import caught_up
from tests.conftest import CIPHER_KEY
from tests.factories import PNR_BOY, line
from tests.kommun_configs import configured_store, kommun_config

LOADED = datetime(2026, 11, 1, 12, 0, tzinfo=STOCKHOLM)
REGLER = [
    {
        "id": "1",
        "beslutstyp": "inleda_utredning",
        "lagrum": "SoL 14:2",
        "lagsta_delegat": "socialsekreterare",
    },
    {"id": "2", "beslutstyp": "overvagande", "lagrum": "SoL 22:13", "lagsta_delegat": "utskott"},
    {
        "id": "3",
        "beslutstyp": "insats_oppenvard",
        "lagrum": "SoL 11:1",
        "lagsta_delegat": "sektionschef",
    },
]
#: The nämnd's ordning from 2026-01-01: an öppenvårdsinsats needs a sektionschef.
STRICT = kommun_config(
    "1280",
    namnd={"sammantraden": [date(2026, 6, 16), date(2026, 8, 25)]},
    delegationsordning={"version": "2026-01", "giltig_fran": date(2026, 1, 1), "regler": REGLER},
)
#: Its next version (loaded later): a socialsekreterare may decide it, and a new calendar.
LENIENT = kommun_config(
    "1280",
    namnd={"sammantraden": [date(2026, 6, 9), date(2026, 9, 1)]},
    delegationsordning={
        "version": "2026-10",
        "giltig_fran": date(2026, 1, 1),
        "regler": [
            {**r, "lagsta_delegat": "socialsekreterare"} if r["id"] == "3" else r for r in REGLER
        ],
    },
)


def _lines() -> list[str]:
    def at(day: date) -> datetime:
        return datetime.combine(day, time(10), tzinfo=STOCKHOLM)

    rows: list[tuple[date, str, dict[str, Any]]] = [
        (
            date(2026, 5, 4),
            "anmalan_mottagen",
            {
                "anmalan_id": "A1",
                "barn": {"personnummer": PNR_BOY, "kon": "pojke"},
                "anmalare_kategori": "skola",
            },
        ),
        (
            date(2026, 5, 4),
            "skyddsbedomning_gjord",
            {"anmalan_id": "A1", "omedelbart_skydd": False},
        ),
        (
            date(2026, 5, 5),
            "forhandsbedomning_beslutad",
            {"anmalan_id": "A1", "beslut": "inleda_utredning"},
        ),
        (date(2026, 5, 5), "utredning_inledd", {"utredning_id": "U1", "grund": "anmalan"}),
        (date(2026, 6, 1), "utredning_avslutad", {"utredning_id": "U1", "utfall": "insats"}),
        (
            date(2026, 6, 2),
            "beslut_fattat",
            {
                "beslut_id": "B1",
                "lagrum": "SoL 11:1",
                "beslutstyp": "insats_oppenvard",
                "insats": "oppenvard",
                "gynnande": True,
                "delegat": {"id": "ss-1", "roll": "socialsekreterare"},
            },
        ),
    ]
    return [
        orjson.dumps(line(etype, data, at=at(day), key=f"DR-{i}", case_ref="DR")).decode()
        for i, (day, etype, data) in enumerate(rows)
    ]


def _utan(env: dict[str, str]) -> list[dict[str, Any]]:
    doc = REPORTS["utan-delegation"].build(env, "1280", parse_period("as_of", "2026-10-31"))
    return list(doc["rows"])


def test_a_new_version_never_re_judges_what_was_recorded(
    store: CaseStore, pg_url: str, schema: str
) -> None:
    with configured_store(store, STRICT) as strict:
        summary = import_lines(strict, _lines(), now=LOADED)
        assert summary.appended == 6  # taken without delegation: recorded, not refused
        strict_env = dict(strict.env)
    with caught_up(strict_env):
        pass
    [row] = _utan(strict_env)
    assert (row["beslutstyp"], row["delegat_roll"], row["kravs"], row["punkt"]) == (
        "insats_oppenvard",
        "socialsekreterare",
        "sektionschef",
        "3",
    )
    assert (row["kommun_config"], row["ordning_version"]) == (STRICT.version, "2026-01")

    # the nämnd's next version would allow it; loading it refolds the views, not the judgement
    plain = eventsourcing_env(pg_url, schema, CIPHER_KEY)
    with configured_store(CaseStore(env=plain), LENIENT) as lenient:
        lenient_env = dict(lenient.env)
        with caught_up(lenient_env) as runner:
            assert runner.view.versions() == {"1280": LENIENT.version}
            audit = case_audit(runner.view, AuditQuery("1280", "DR", as_of=date(2026, 10, 31)))
    # the case audit shows each decision with the version and ordning that judged it
    [b1] = [b for b in audit["beslut"] if b["beslut_id"] == "B1"]
    assert (b1["delegation"]["kommun_config"], b1["delegation"]["utfall"]) == (
        STRICT.version,
        "obehorig",
    )
    assert audit["kommun_config"] == LENIENT.version  # what the frister are computed with
    assert _utan(lenient_env) == [row]
    month = REPORTS["delegationsbeslut"].build(
        lenient_env, "1280", parse_period("month", "2026-06")
    )
    [meeting] = month["sammantraden"]
    # grouped by the sammanträde of the views' calendar (the first after 2026-06-02)
    assert meeting["sammantrade"] == "2026-06-09"
    [beslut] = [b for g in meeting["grupper"] for b in g["beslut"]]
    assert (beslut["utfall"], beslut["kommun_config"]) == ("obehorig", STRICT.version)
    assert beslut["ordning"] == {"version": "2026-01", "giltig_fran": "2026-01-01"}
