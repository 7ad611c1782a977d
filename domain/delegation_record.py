"""Judging one decision against the kommun's delegationsordning, and the record of that judgement.

Every decision event (``domain.decisions``) is judged by the ordning **in force on its legal
date** in the kommun's configuration version (several versions, each from its ``giltig_fran``),
after the statute's own limits (``domain.delegation_law``: SoL 30:6–7, old 10:4). The outcome is
kept with the event in the store (the envelope's ``delegation``), so an auditor reads from the
event store alone which configuration version and which ordning judged a decision, which point
allowed it and who decided; the Temporal history that also shows it expires.

A command over the API is refused when the judgement fails (``RuleViolation`` DELEG, HTTP 409).
An imported historic decision is never refused for it: it is recorded with ``utfall``
``obehorig`` (taken without delegation) and listed in the report of such decisions; one dated
before the kommun's earliest ordning is recorded ``ej_provad``. A kommun without a
delegationsordning is not judged and its decisions carry no record, as documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from domain.case import CaseState
from domain.decisions import Decision, decision_of
from domain.delegation import (
    ORDFORANDE_STEGE,
    TJANSTEMAN,
    DelegationCheck,
    Delegationsordning,
    RoleLadder,
)
from domain.delegation_law import limit_for, ordforande_right
from domain.errors import RuleViolation
from domain.events import CaseEvent
from domain.kommun import KommunConfig

__all__ = ["BEHORIG", "EJ_PROVAD", "OBEHORIG", "Judgement", "judge"]

#: ``utfall`` of a judgement: the delegat had the power to decide; did not; nothing to judge by.
BEHORIG: Final = "behorig"
OBEHORIG: Final = "obehorig"
EJ_PROVAD: Final = "ej_provad"
_RULE: Final = "DELEG"
_ORDFORANDE_LAW_SV: Final = (
    "LVU 6 § andra st., 11 § tredje st., 27 § andra st. och 31 d § andra st. (från 2027-01-01 "
    "lag 2026:1600 5 kap. 3 §, 6 kap. 2 §, 12 kap. 7 §, 13 kap. 7 §)"
)
_ORDFORANDE_LAW_EN: Final = (
    "LVU 6 § andra st., 11 § tredje st., 27 § andra st. and 31 d § andra st. (from 2027-01-01 "
    "lag 2026:1600 5 kap. 3 §, 6 kap. 2 §, 12 kap. 7 §, 13 kap. 7 §)"
)


@dataclass(frozen=True)
class Judgement:
    """A decision's judgement: the record kept with the event, and the refusal, if it fails
    (``None`` when the delegat had the power, or when there is nothing to judge by)."""

    record: dict[str, Any]
    violation: RuleViolation | None

    @property
    def utfall(self) -> str:
        return str(self.record["utfall"])


def judge(ev: CaseEvent, state: CaseState | None, config: KommunConfig | None) -> Judgement | None:
    """Judge ``ev`` with ``config``, the kommun's configuration version named by its command or
    in force at its import; ``None`` when ``ev`` records no decision or the kommun has no
    delegationsordning (nothing to judge by, nothing recorded: docs/delegationsordning.md).
    ``state`` is the case before ``ev``."""
    decision = decision_of(ev, state)
    if decision is None or config is None or not config.ordningar:
        return None  # not a decision, or a kommun without a delegationsordning: not judged
    day = ev.legal_date
    version = config.version
    ordning = config.ordning_on(day)
    if ordning is None:
        first = config.ordningar[0].giltig_fran
        violation = RuleViolation(
            _RULE,
            sv=(
                f"Ingen delegationsordning gällde för kommun {config.kommun} den {day} (den "
                f"äldsta gäller från {first}); lägg till den som gällde då i kommunens "
                "konfiguration."
            ),
            en=(
                f"no delegationsordning of kommun {config.kommun} was in force on {day} (the "
                f"earliest is in force from {first}); add the one in force then to the kommun's "
                "configuration"
            ),
        )
        return _unjudged(decision, config.roller, version, violation)
    ladder = ordning.roller
    roll = decision.delegat_roll
    if decision.ordforande_flag and not decision.delegat_named:
        roll = ladder.ordforande[0]  # the event says the chair decided
    try:
        _statutory(decision, ladder, roll, day)
        check = ordning.assess(
            decision.code, decision.lagrum, roll, decision.belopp_per_dygn, day=day
        )
        if decision.ordforande_flag and not check.ordforande_bradskande:
            raise RuleViolation(
                _RULE,
                sv=f"Ett ordförandebeslut ska ha ordföranden som delegat, inte {roll}.",
                en=f"an ordforandebeslut must name the ordförande as its delegat, not {roll}",
            )
    except RuleViolation as exc:
        record = _record(
            decision,
            roll,
            day=day,
            ladder=ladder,
            version=version,
            ordning=ordning,
            check=None,
            violation=exc,
        )
        return Judgement(record, exc)
    record = _record(
        decision,
        roll,
        day=day,
        ladder=ladder,
        version=version,
        ordning=ordning,
        check=check,
        violation=None,
    )
    return Judgement(record, None)


def _statutory(decision: Decision, ladder: RoleLadder, roll: str, day: date) -> None:
    """SoL 30:6–7 (old 10:4): refused for an official, and for an ordförande without the
    statute's kompletterande beslutanderätt, whatever the kommun's file says."""
    position = ladder.position(roll)
    if position is None:
        return  # the ordning names the unknown title
    limit = limit_for(decision.code, day, lagrum=decision.lagrum, insats=decision.insats)
    if position.stege == TJANSTEMAN and limit is not None:
        paragraph = limit.paragraph(day)
        raise RuleViolation(
            _RULE,
            sv=(
                f"Beslut om {limit.what} får enligt {paragraph} delegeras endast till ett "
                f"utskott; {roll} är tjänsteman."
            ),
            en=(
                f"a decision on {limit.what} may be delegated only to an utskott under "
                f"{paragraph}; {roll} is an official"
            ),
        )
    if position.stege == ORDFORANDE_STEGE and ordforande_right(limit, day) is None:
        raise RuleViolation(
            _RULE,
            sv=(
                f"Ordföranden får besluta i nämndens ställe bara enligt {_ORDFORANDE_LAW_SV}, "
                f"inte om '{decision.code}'."
            ),
            en=(
                f"the ordförande may decide in the nämnd's place only under "
                f"{_ORDFORANDE_LAW_EN}, not on '{decision.code}'"
            ),
        )


def _base(decision: Decision, roll: str, ladder: RoleLadder, version: str | None) -> dict[str, Any]:
    position = ladder.position(roll)
    return {
        "beslutskod": decision.code,
        "lagrum": decision.lagrum,
        # the title as the kommun spells it, so one title is one group in the reports
        "delegat": {
            "id": decision.delegat_id,
            "roll": roll if position is None else position.titel,
        },
        "delegat_angiven": decision.delegat_named,
        "stege": None if position is None else position.stege,
        "rang": None if position is None else position.rang,
        "kommun_config": version,
    }


def _unjudged(
    decision: Decision, ladder: RoleLadder, version: str, violation: RuleViolation
) -> Judgement:
    """No ordning in force on the decision's date (before the kommun's earliest version), so
    the kommun's titles only place the delegat. Listed for the nämnd only when the event named
    its delegat (as ``beslut_fattat`` always does): barnflow cannot tell a delegated decision
    otherwise."""
    roll = decision.delegat_roll
    record = _base(decision, roll, ladder, version)
    record.update(
        ordning=None,
        punkt=None,
        kravs=None,
        utfall=EJ_PROVAD,
        skal=violation.en,
        ordforandebeslut=decision.ordforande_flag or ladder.is_ordforande(roll),
        anmalan_till_namnden=decision.delegat_named and not ladder.is_namnd(roll),
    )
    return Judgement(record, violation)


def _record(
    decision: Decision,
    roll: str,
    *,
    day: date,
    ladder: RoleLadder,
    version: str | None,
    ordning: Delegationsordning,
    check: DelegationCheck | None,
    violation: RuleViolation | None,
) -> dict[str, Any]:
    record = _base(decision, roll, ladder, version)
    required: str | None
    if check is not None:
        rule, required = check.rule, check.required
    else:  # what it would have taken: the ordning's point, raised to the utskott by the statute
        rule, required = ordning.requirement(
            decision.code, decision.lagrum, decision.belopp_per_dygn, day=day
        )
        lowest_body = ladder.politiska[0]
        if limit_for(decision.code, day, lagrum=decision.lagrum, insats=decision.insats) and (
            required is None or (ladder.level(required) or 0) < (ladder.level(lowest_body) or 0)
        ):
            required = lowest_body
    record.update(
        ordning={
            "version": ordning.version or None,
            "giltig_fran": None if ordning.giltig_fran is None else ordning.giltig_fran.isoformat(),
        },
        punkt=None if rule is None else rule.id,
        kravs=required,
        utfall=BEHORIG if violation is None else OBEHORIG,
        skal=None if violation is None else violation.en,
        ordforandebeslut=(
            check.ordforande_bradskande
            if check is not None
            else decision.ordforande_flag or ladder.is_ordforande(roll)
        ),
        anmalan_till_namnden=(
            check.requires_anmalan_till_namnden if check is not None else not ladder.is_namnd(roll)
        ),
    )
    if record["lagrum"] is None and rule is not None:
        record["lagrum"] = rule.lagrum
    return record
