"""Every decision judged over the API against the kommun's delegationsordning (issue 14, items
1-4), with a kommun's real configuration loaded (tests/api/conftest.py ``BOTKYRKA``: the sample
``config/kommun.0127.sample.toml``, its own titles, two versions and a calendar of sammanträden).

For each decision code one case is opened, brought to where the decision can be taken, and the
decision is sent with a delegat the ordning (or SoL 30:6-7) does not allow, then with one it
does: 409 DELEG, then 201 with the judgement stored with the event (configuration version,
ordning, point). Real Temporal and PostgreSQL, like every test here."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from domain.calendar import STOCKHOLM
from domain.decisions import DECISION_CODES
from infra.config.clock import today_stockholm
from tests.api.conftest import BOTKYRKA, BOTKYRKA_KOMMUN, Token, new_pnr, new_ref
from tests.factories import line

K = BOTKYRKA_KOMMUN
#: Decisions are dated in the 2026-01 version's time, before lag 2026:1600 (2027-01-01).
START = date(2026, 9, 1)
#: Lag 2026:1637 exists from 2027-01-02 (guard N0): its decisions are dated then.
START_2027 = date(2027, 1, 4)
UTSKOTT = "individutskottet"
_keys = itertools.count()

Step = tuple[str, dict[str, Any]]


def _by(roll: str) -> dict[str, str]:
    return {"id": f"d-{roll}", "roll": roll}


OPEN: list[Step] = [
    (
        "anmalan_mottagen",
        {"anmalan_id": "A1", "barn": {"kon": "flicka"}, "anmalare_kategori": "skola"},
    ),
    ("skyddsbedomning_gjord", {"anmalan_id": "A1", "omedelbart_skydd": False}),
]
UTREDNING: list[Step] = [
    *OPEN,
    ("forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inleda_utredning"}),
    ("utredning_inledd", {"utredning_id": "U1", "grund": "anmalan", "anmalan_id": "A1"}),
]
AVSLUTAD: list[Step] = [
    *UTREDNING,
    ("utredning_avslutad", {"utredning_id": "U1", "utfall": "insats"}),
]
BESLUT: list[Step] = [
    *AVSLUTAD,
    (
        "beslut_fattat",
        {
            "beslut_id": "B1",
            "lagrum": "SoL 11:1",
            "beslutstyp": "placering_familjehem",
            "insats": "familjehem",
            "gynnande": True,
            "delegat": _by(UTSKOTT),
        },
    ),
]
OMH: list[Step] = [
    *OPEN,
    ("lvu_omhandertagande_beslutat", {"beslut_id": "L1", "delegat": _by(UTSKOTT)}),
]
UMGANGE: list[Step] = [
    *OMH,
    (
        "lvu_umgangesbegransning_beslutad",
        {"begransning_id": "G1", "slag": "umgange", "delegat": _by(UTSKOTT)},
    ),
]
FOREBYGGANDE: list[Step] = [
    *OPEN,
    (
        "lvu_forebyggande_insats_beslutad",
        {"insats_id": "I1", "insats": "kontaktperson", "delegat": _by(UTSKOTT)},
    ),
]


def _forbud(kind: str, *, tillfalligt: bool) -> list[Step]:
    data: dict[str, Any] = {"forbud_id": "F1", "forbud": kind}
    if tillfalligt:
        data.update(tillfalligt=True, delegat=_by(UTSKOTT))
    return [*OPEN, ("lvu_forbud_beslutat", data)]


def _beslut(beslutstyp: str, insats: str, **extra: Any) -> dict[str, Any]:
    return {
        "beslut_id": "B9",
        "lagrum": "SoL 11:1",
        "beslutstyp": beslutstyp,
        "insats": insats,
        "gynnande": True,
        **extra,
    }


SAMTYCKE = {"insats_id": "S1", "avser": "vardnadshavare", "giltig_till": "2027-06-30"}


@dataclass(frozen=True)
class Decision:
    """One decision code: the steps before it, its event, and a forbidden and an allowed delegat."""

    code: str
    setup: list[Step]
    etype: str
    data: dict[str, Any]
    forbidden: str
    allowed: str
    start: date = START
    #: Text the refusal must contain (the point, the level, the paragraph).
    because: str = ""
    marks: tuple[Any, ...] = field(default=())


DECISIONS = [
    Decision(
        "inleda_utredning",
        OPEN,
        "forhandsbedomning_beslutad",
        {"anmalan_id": "A1", "beslut": "inleda_utredning"},
        "ordförande",
        "socialsekreterare",
        because="in the nämnd's place only under LVU 6 §",
    ),
    Decision(
        "inte_inleda_utredning",
        OPEN,
        "forhandsbedomning_beslutad",
        {"anmalan_id": "A1", "beslut": "inte_inleda_utredning"},
        "socialsekreterare",
        "1:e socialsekreterare",
        because="rule 1.2",
    ),
    Decision(
        "forlangning_forhandsbedomning",
        OPEN,
        "forhandsbedomning_forlangd",
        {"anmalan_id": "A1", "ny_slutdag": "2026-09-25", "skal": "synnerliga skäl"},
        "1:e socialsekreterare",
        "enhetschef",
        because="requires at least enhetschef",
    ),
    Decision(
        "forlangning_utredning",
        UTREDNING,
        "utredning_forlangd",
        {"utredning_id": "U1", "ny_slutdag": "2027-02-15", "skal": "särskilda skäl"},
        "socialsekreterare",
        "1:e socialsekreterare",
        because="rule 1.4",
    ),
    Decision(
        "insats_oppenvard",
        AVSLUTAD,
        "beslut_fattat",
        _beslut("insats_oppenvard", "oppenvard"),
        "vice ordförande",
        "socialsekreterare",
        because="in the nämnd's place only under LVU 6 §",
    ),
    Decision(
        "placering_familjehem",
        AVSLUTAD,
        "beslut_fattat",
        _beslut("placering_familjehem", "familjehem"),
        "IFO-chef",
        UTSKOTT,
        because="SoL 2025:400 30 kap. 6 § 1",
    ),
    Decision(
        "placering_hvb",
        AVSLUTAD,
        "beslut_fattat",
        _beslut("placering_hvb", "hvb", belopp_per_dygn=5000),
        "enhetschef",
        "avdelningschef",
        because="at 5000 kr/dygn",
    ),
    Decision(
        "upphorande_insats",
        BESLUT,
        "beslut_avslutat",
        {"beslut_id": "B1", "orsak": "vården avslutad"},
        "socialsekreterare",
        "1:e socialsekreterare",
        because="rule 2.4",
    ),
    Decision(
        "overvagande",
        BESLUT,
        "overvagande_genomfort",
        {"beslut_id": "B1", "slutsats": "fortsatt vård"},
        "IFO-chef",
        UTSKOTT,
        because="SoL 2025:400 30 kap. 6 § 2",
    ),
    Decision(
        "overvagande_vardnadsoverflyttning",
        BESLUT,
        "vardnadsoverflyttning_overvagd",
        {"beslut_id": "B1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 6 § 2 (SoL 22 kap. 14 §)",
    ),
    Decision(
        "omedelbart_omhandertagande",
        OPEN,
        "lvu_omhandertagande_beslutat",
        {"beslut_id": "L1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 2",
    ),
    Decision(
        "ansokan_om_vard",
        OPEN,
        "lvu_ansokan_inlamnad",
        {"beslut_id": "L1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 1",
    ),
    Decision(
        "ansokan_fortsatt_tillfallig_vard",
        OMH,
        "lvu_fortsatt_tillfallig_vard_ansokt",
        {"beslut_id": "L1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 3",
    ),
    Decision(
        "placering",
        OMH,
        "lvu_placering_paborjad",
        {"placering_id": "P1", "placering": "hvb"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 4",
    ),
    Decision(
        "upphorande_av_vard",
        OMH,
        "lvu_vard_upphort",
        {"beslut_id": "L1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 9",
    ),
    Decision(
        "umgangesbegransning",
        OMH,
        "lvu_umgangesbegransning_beslutad",
        {"begransning_id": "G1", "slag": "hemlighallande"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 8",
    ),
    Decision(
        "provning_umgangesbegransning",
        UMGANGE,
        "lvu_umgangesbegransning_provad",
        {"begransning_id": "G1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 8",
    ),
    Decision(
        "upphorande_umgangesbegransning",
        UMGANGE,
        "lvu_umgangesbegransning_upphort",
        {"begransning_id": "G1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 8",
    ),
    Decision(
        "tillfalligt_flyttningsforbud",
        OPEN,
        "lvu_forbud_beslutat",
        {"forbud_id": "F1", "forbud": "flyttningsforbud", "tillfalligt": True},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 11",
    ),
    Decision(
        "tillfalligt_utreseforbud",
        OPEN,
        "lvu_forbud_beslutat",
        {"forbud_id": "F1", "forbud": "utreseforbud", "tillfalligt": True},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 14",
    ),
    Decision(
        "ansokan_flyttningsforbud",
        _forbud("flyttningsforbud", tillfalligt=True),
        "lvu_forbud_ansokt",
        {"forbud_id": "F1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 11",
    ),
    Decision(
        "ansokan_utreseforbud",
        _forbud("utreseforbud", tillfalligt=True),
        "lvu_forbud_ansokt",
        {"forbud_id": "F1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 14",
    ),
    Decision(
        "overvagande_flyttningsforbud",
        _forbud("flyttningsforbud", tillfalligt=False),
        "lvu_forbud_overvagt",
        {"forbud_id": "F1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 12",
    ),
    Decision(
        "provning_utreseforbud",
        _forbud("utreseforbud", tillfalligt=False),
        "lvu_forbud_overvagt",
        {"forbud_id": "F1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 14",
    ),
    Decision(
        "upphorande_flyttningsforbud",
        _forbud("flyttningsforbud", tillfalligt=False),
        "lvu_forbud_upphort",
        {"forbud_id": "F1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 12",
    ),
    Decision(
        "upphorande_utreseforbud",
        _forbud("utreseforbud", tillfalligt=False),
        "lvu_forbud_upphort",
        {"forbud_id": "F1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 14",
    ),
    Decision(
        "undantag_utreseforbud",
        _forbud("utreseforbud", tillfalligt=False),
        "lvu_forbud_undantag_beslutat",
        {"forbud_id": "F1", "till": "2026-09-20"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 14",
    ),
    Decision(
        "drogtest",
        OMH,
        "lvu_drogtest_beslutat",
        {"avser": "umgange", "provtyp": "urin", "syfte": "umgänge"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 15",
    ),
    Decision(
        "lakarundersokning",
        OPEN,
        "lvu_lakarundersokning_beslutad",
        {"beslutad_av": "namnden"},
        "1:e socialsekreterare",
        "enhetschef",
        because="rule 3.24",
    ),
    Decision(
        "forebyggande_insats",
        OPEN,
        "lvu_forebyggande_insats_beslutad",
        {"insats_id": "I1", "insats": "kontaktperson"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 10",
    ),
    Decision(
        "provning_forebyggande_insats",
        FOREBYGGANDE,
        "lvu_forebyggande_insats_provad",
        {"insats_id": "I1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 10",
    ),
    Decision(
        "upphorande_forebyggande_insats",
        FOREBYGGANDE,
        "lvu_forebyggande_insats_upphort",
        {"insats_id": "I1"},
        "IFO-chef",
        UTSKOTT,
        because="30 kap. 7 § 10",
    ),
    *(
        Decision(
            code,
            [*OPEN, *extra],
            etype,
            data,
            "IFO-chef",
            UTSKOTT,
            start=START_2027,
            because="requires at least individutskottet",
            # lag 2026:1637 applies from 2027-01-02: until then no such decision can be dated
            marks=(
                pytest.mark.skipif(
                    today_stockholm() < START_2027 + timedelta(days=10),
                    reason="lag 2026:1637 decisions exist from 2027-01-02 (guard N0)",
                ),
            ),
        )
        for code, extra, etype, data in (
            ("insats_utan_samtycke", [], "insats_utan_samtycke_beslutad", SAMTYCKE),
            (
                "overvagande_insats_utan_samtycke",
                [("insats_utan_samtycke_beslutad", {**SAMTYCKE, "delegat": _by(UTSKOTT)})],
                "insats_utan_samtycke_overvagd",
                {"insats_id": "S1"},
            ),
            (
                "upphorande_insats_utan_samtycke",
                [("insats_utan_samtycke_beslutad", {**SAMTYCKE, "delegat": _by(UTSKOTT)})],
                "insats_utan_samtycke_upphort",
                {"insats_id": "S1"},
            ),
        )
    ),
]


def test_every_decision_code_is_tested() -> None:
    assert {d.code for d in DECISIONS} >= set(DECISION_CODES)


class Case:
    """One case of kommun 0127 on the API, its events a day apart from ``start``."""

    def __init__(self, http: httpx.AsyncClient, token: Token, start: date) -> None:
        self.http, self.token = http, token
        self.ref, self.pnr, self.day = new_ref(), new_pnr(), start

    def event(self, etype: str, data: dict[str, Any], *, day: date | None = None) -> dict[str, Any]:
        if etype in ("anmalan_mottagen",):
            data = {**data, "barn": {**data["barn"], "personnummer": self.pnr}}
        at = datetime.combine(day or self.day, time(12), tzinfo=STOCKHOLM)
        return line(
            etype, data, at=at, key=f"{self.ref}-{next(_keys)}", kommun=K, case_ref=self.ref
        )

    async def send(
        self, etype: str, data: dict[str, Any], status: int = 201, *, day: date | None = None
    ) -> dict[str, Any]:
        r = await self.http.post(
            "/commands",
            json=self.event(etype, data, day=day),
            headers=self.token("system", kommun=K),
        )
        assert r.status_code == status, r.text
        body: dict[str, Any] = r.json()
        return body

    async def steps(self, steps: list[Step]) -> None:
        for etype, data in steps:
            await self.send(etype, data)
            self.day += timedelta(days=1)


@pytest.mark.parametrize(
    "decision",
    [pytest.param(d, id=d.code, marks=d.marks) for d in DECISIONS],
)
async def test_an_allowed_delegat_is_accepted_and_a_forbidden_one_refused(
    http: httpx.AsyncClient, token: Token, decision: Decision
) -> None:
    case = Case(http, token, decision.start)
    await case.steps(decision.setup)
    refused = await case.send(
        decision.etype, {**decision.data, "delegat": _by(decision.forbidden)}, status=409
    )
    assert refused["rule"] == "DELEG"
    assert decision.because in refused["en"] or decision.because in refused["sv"], refused
    accepted = await case.send(decision.etype, {**decision.data, "delegat": _by(decision.allowed)})
    judged = accepted["event"]["delegation"]
    assert (judged["beslutskod"], judged["utfall"]) == (decision.code, "behorig")
    assert judged["delegat"] == _by(decision.allowed)
    # the auditor's question, answered by the event store alone
    assert judged["kommun_config"] == BOTKYRKA.version
    assert judged["ordning"] == {"version": "2026-01", "giltig_fran": "2026-01-01"}
    assert judged["punkt"] is not None


async def test_the_actor_is_the_delegat_when_the_event_names_none(
    http: httpx.AsyncClient, token: Token
) -> None:
    """A decision without ``delegat`` is the actor's (here a socialsekreterare, line())."""
    case = Case(http, token, START)
    await case.steps(OPEN)
    refused = await case.send(
        "forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inte_inleda_utredning"}, 409
    )
    assert "socialsekreterare is not delegated 'inte_inleda_utredning'" in refused["en"]
    accepted = await case.send(
        "forhandsbedomning_beslutad", {"anmalan_id": "A1", "beslut": "inleda_utredning"}
    )
    judged = accepted["event"]["delegation"]
    assert (judged["delegat"]["roll"], judged["delegat_angiven"]) == ("socialsekreterare", False)
    assert "delegat" not in accepted["event"]["data"]  # the command's data is kept as sent


async def test_a_decision_is_judged_by_the_version_in_force_on_its_date(
    http: httpx.AsyncClient, token: Token
) -> None:
    """2025: the 2025 version's titles and levels (an extension needs a sektionschef); before
    its first version the kommun had none on record, so a decision of then is refused."""
    case = Case(http, token, date(2025, 9, 1))
    await case.steps(UTREDNING)
    extension = {"utredning_id": "U1", "ny_slutdag": "2026-02-15", "skal": "särskilda skäl"}
    refused = await case.send(
        "utredning_forlangd", {**extension, "delegat": _by("1:e socialsekreterare")}, 409
    )
    assert "requires at least sektionschef" in refused["en"]  # allowed from 2026-01-01
    accepted = await case.send("utredning_forlangd", {**extension, "delegat": _by("sektionschef")})
    assert accepted["event"]["delegation"]["ordning"] == {
        "version": "2025-01",
        "giltig_fran": "2025-01-01",
    }

    early = Case(http, token, date(2024, 11, 4))
    await early.steps(OPEN)
    before = await early.send(
        "forhandsbedomning_beslutad",
        {"anmalan_id": "A1", "beslut": "inleda_utredning", "delegat": _by("socialsekreterare")},
        409,
    )
    assert "no delegationsordning of kommun 0127 was in force on 2024-11-06" in before["en"]


async def test_an_ordforandebeslut_is_due_at_the_next_sammantrade(
    http: httpx.AsyncClient, token: Token
) -> None:
    """LVU 6 § andra st.: the chair decides when the utskott cannot wait, and the decision is
    reported at the nämnd's next sammanträde: 2026-09-22 in the kommun's calendar (E1)."""
    case = Case(http, token, START)
    await case.steps(OPEN)
    accepted = await case.send(
        "lvu_omhandertagande_beslutat",
        {"beslut_id": "L1", "ordforandebeslut": True, "delegat": _by("vice ordförande")},
    )
    judged = accepted["event"]["delegation"]
    assert (judged["ordforandebeslut"], judged["punkt"]) == (True, "3.2")
    r = await http.get(
        f"/cases/{K}/{case.ref}/frister",
        params={"min_position": accepted["position"]},
        headers=token(kommun=K),
    )
    assert r.status_code == 200, r.text
    [e1] = [f for f in r.json()["frister"] if f["rule"] == "E1"]
    assert (e1["trigger_date"], e1["due"]) == ("2026-09-03", "2026-09-22")
    # not as the ordförande of an SoL decision: the statute gives no such right
    refused = await case.send(
        "forhandsbedomning_beslutad",
        {"anmalan_id": "A1", "beslut": "inleda_utredning", "delegat": _by("ordförande")},
        409,
    )
    assert "the ordförande may decide in the nämnd's place only under LVU 6 §" in refused["en"]
