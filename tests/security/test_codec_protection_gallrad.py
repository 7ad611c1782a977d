"""The codec server's protected-case check after gallring destroyed a protected child's
identity: the case's workflow stays protected under the id gallring recorded for it; a case
without that record cannot be traced to its workflow, so every case workflow of its kommun is
refused to a token without the protected role (when unsure, refuse). Real PostgreSQL."""

from __future__ import annotations

from datetime import date

from domain.ids import case_id_for, workflow_id_for
from domain.sealing import SHREDDED
from infra.ops.gallring import run
from infra.persistence.store import CaseStore
from infra.temporal.codec_protection import ProtectedCases
from infra.temporal.commands import child_pseudonym
from tests.conftest import PSEUDONYM_KEY
from tests.domain.test_retention import Case
from tests.ops.test_gallring_temporal import AS_OF, NOW

KOMMUN, OTHER = "9924", "9926"


def _protected_closed(ref: str, born: date) -> Case:
    c = Case(ref=ref, kommun=KOMMUN, born=born).anmalan(date(2020, 1, 10))
    c.add("skydd_markerat", date(2020, 1, 10), skydd="sekretessmarkering")
    c.add("skyddsbedomning_gjord", date(2020, 1, 10), anmalan_id="a1", omedelbart_skydd=False)
    c.add("forhandsbedomning_beslutad", date(2020, 1, 20), anmalan_id="a1",
          beslut="inte_inleda_utredning")  # fmt: skip
    c.add("arende_avslutat", date(2021, 6, 1), orsak="ingen_utredning")
    return c


def test_a_gallrad_protected_case_stays_protected(store: CaseStore) -> None:
    for ref, born in (("VS-SL", date(2010, 3, 4)), ("VS-SU", date(2010, 2, 1))):
        for ev in _protected_closed(ref, born).events:
            store.record(ev, lagrum=False)
    opening = store.case_events(case_id_for(KOMMUN, "VS-SL"))[0]
    real = workflow_id_for(KOMMUN, child_pseudonym(opening, PSEUDONYM_KEY))
    wkeys = store.workflow_keys
    assert wkeys is not None
    wkeys.live_key(real)  # VS-SL's workflow ran under its own key; VS-SU's never did
    before = ProtectedCases(store, PSEUDONYM_KEY, ttl=0)
    assert before.kommuner(set(), {real}) == {KOMMUN}
    assert before.kommuner(set(), {f"barnarende-{KOMMUN}-someoneelse"}) == set()

    run(store, KOMMUN, "GN 2026-11 §42", as_of=AS_OF, now=NOW, apply=True,
        pseudonym_key=PSEUDONYM_KEY)  # fmt: skip
    for ref in ("VS-SL", "VS-SU"):
        gallrad = store.case_events(case_id_for(KOMMUN, ref))[0]
        assert gallrad.data["barn"].get("identitet") == SHREDDED, ref

    after = ProtectedCases(store, PSEUDONYM_KEY, ttl=0)
    # still protected by its case_ref, and by the workflow id gallring recorded
    assert after.kommuner({(KOMMUN, "VS-SL")}, set()) == {KOMMUN}
    assert after.kommuner(set(), {real}) == {KOMMUN}
    # VS-SU's workflow cannot be named: any case workflow of its kommun is refused, none other
    assert after.kommuner(set(), {f"barnarende-{KOMMUN}-someoneelse"}) == {KOMMUN}
    assert after.kommuner(set(), {f"barnarende-{OTHER}-someoneelse"}) == set()
