"""One case's events → the rows of every read model (pure; no database).

The incremental runner, the rebuild and the as-known-at reports all call ``case_rows``, so the
three can never disagree: a view is always exactly the function of the record up to a position.

Free text (reasons the insats waits, why the child was not heard) goes through ``seal`` (the
store's cipher), so the views hold no readable case content: reports decrypt only what they show.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from typing import Any

import orjson

from domain.appeals import forvaltningsbesvar
from domain.case import CaseState, fold
from domain.case_transfer import MARKER
from domain.evb import EvbBeslut, evb_duty_from, utredning_original_due
from domain.events import CaseEvent
from domain.frister import FristVersion, frist_versions
from domain.identity import ivo_pseudo_id
from domain.rules import DEFAULT_POLICY, KommunPolicy
from projections.delegation_rows import delegation_rows
from projections.folded import (
    aktualisering_rows,
    kontinuitet_rows,
    legal_order,
    placement_rows,
    return_rows,
)

Row = tuple[Any, ...]
Seal = Callable[[bytes], bytes]
IDENTITY_TYPES = frozenset({"anmalan_mottagen", "ansokan_mottagen", "identitet_uppdaterad"})
#: The EVB frister: they stay with the kommun that made the beslut when the ärende moves.
EVB_RULES = frozenset({"C2", "C3", "C4"})


def ivo_key(cipher_key_b64: str) -> bytes:
    """The IVO pseudo-id key, derived from the store's cipher key (never stored elsewhere).

    Deriving it keeps the pseudo-id stable across rebuilds and machines that can read the record,
    and useless to anyone who cannot.
    """
    return hmac.new(cipher_key_b64.encode(), b"barnflow:ivo-pseudo-id", hashlib.sha256).digest()


def ivo_id_of(key: bytes, envelope: dict[str, Any], current: str | None) -> str | None:
    """The IVO pseudo-id from an (unredacted) event that names the child, else ``current``."""
    if envelope.get("type") not in IDENTITY_TYPES:
        return current
    barn = (envelope.get("data") or {}).get("barn") or {}
    ident = barn.get("personnummer") or barn.get("tillfalligt_id")
    born = barn.get("fodelsedatum")
    if not ident or not born or barn.get("kon") is None:
        return current
    return ivo_pseudo_id(key, str(ident), date.fromisoformat(born), str(barn["kon"]))


def redact(envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope without the child's identifier or the chain digest (kön, birth date stay).

    Copies only what it changes (a rebuild redacts every event; most name no child).
    """
    out = dict(envelope)
    out.pop("digest", None)
    data = out.get("data")
    barn = data.get("barn") if isinstance(data, dict) else None
    if isinstance(data, dict) and isinstance(barn, dict):
        kept = {k: v for k, v in barn.items() if k not in ("personnummer", "tillfalligt_id")}
        out["data"] = {**data, "barn": kept}
    return out


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def frist_view_rows(
    head: Row, versions: list[FristVersion], enhet: str | None, handlaggare: str | None
) -> list[Row]:
    """Rows of the ``frister`` view (``projections.tables.FRISTER``) for one case."""
    return [
        (
            *head,
            f.key,
            v.valid_from,
            v.valid_to,
            f.rule,
            f.name,
            f.subject,
            f.trigger_type,
            f.trigger_date,
            f.due,
            f.original_due,
            f.shifted_due,
            f.fulfilled_date,
            f.law,
            f.paragraph,
            f.blocks_closing,
            enhet,
            handlaggare,
        )
        for v in versions
        for f in (v.frist,)
    ]


def held_versions(state: CaseState, versions: list[FristVersion]) -> list[FristVersion]:
    """The frist versions the case's own kommun holds. The frister of a transferred ärende moved
    with it (policy ``h3_overflyttning``: the receiving stream keeps their dates), so in the
    sending kommun they end the day it moved; its EVB frister (C2-C4) stay, like the duty
    (POL-OVERFLYTTNING-EVB)."""
    moved = state.closed_on if state.transferred_to is not None else None
    if moved is None:
        return versions
    out = []
    for v in versions:
        if v.frist.rule in EVB_RULES or (v.valid_to is not None and v.valid_to <= moved):
            out.append(v)
        elif v.valid_from < moved:
            out.append(replace(v, valid_to=moved))
    return out


def overklagande_rows(head: Row, child: Row, state: CaseState) -> list[Row]:
    """Rows of the ``overklaganden`` view (``projections.tables.OVERKLAGANDEN``) for one case."""
    rows: list[Row] = []
    appeals = state.appeals
    for o in appeals.overklaganden.values():
        b = state.beslut.get(o.beslut_id)
        given = [
            day
            for who, day in appeals.delgivningar.get(o.beslut_id, [])
            if o.part is None or who == o.part
        ]
        rows.append(
            (
                *head,
                *child,
                o.id,
                o.beslut_id,
                b.fattat if b else None,
                b.lagrum if b else None,
                forvaltningsbesvar(b.lagrum, b.fattat) if b else None,
                max(given, default=None),
                appeals.period_end(o),
                o.mottaget,
                o.rattidsprovad,
                o.i_tid,
                o.undantag,
                o.omprovad,
                o.omprovning,
                o.overlamnat,
                o.inhibition,
                o.avgjort,
                o.utfall,
                o.aterkallat,
                b.avslutat if b else None,
                state.enhet,
            )
        )
    return rows


def _first(dates: dict[str, date], key: str, day: date) -> None:
    if key not in dates:
        dates[key] = day


def _frister_of(
    case_id: str,
    state: CaseState,
    events: list[CaseEvent],
    policy: KommunPolicy,
    *,
    today: date | None,
    until: date | None = None,
) -> tuple[list[Row], date | None]:
    versions, generated = frist_versions(events, until, policy=policy, today=today)
    head = (case_id, state.kommun, state.case_ref)
    rows = frist_view_rows(head, held_versions(state, versions), state.enhet, state.handlaggare)
    return rows, generated


def case_frister(
    case_id: str,
    events: list[CaseEvent],
    policy: KommunPolicy = DEFAULT_POLICY,
    *,
    today: date | None = None,
    until: date | None = None,
) -> tuple[list[Row], date | None]:
    """The ``frister`` view's rows of one case and its ``frister_until``, as ``case_rows``
    computes them (``until``: generate repeating frister to that day instead, as a report
    as of a date past the stored ``frister_until`` does)."""
    return _frister_of(case_id, fold(events), events, policy, today=today, until=until)


def case_rows(
    case_id: str,
    events: list[CaseEvent],
    ivo_id: str | None,
    seal: Seal,
    policy: KommunPolicy = DEFAULT_POLICY,
    *,
    today: date | None = None,
) -> tuple[tuple[list[Row], ...], date | None]:
    """Rows of ``projections.tables.ROW_TABLES`` for one case (events in stream order), and the
    case's ``frister_until`` (see ``frist_versions``); frister with the kommun's ``policy``,
    repeating ones generated past ``today`` too (``generation_horizon``; ``None``: only past
    the last event, as the as-known-at copies do)."""
    state = fold(events)
    kommun, ref = state.kommun, state.case_ref
    kon, born = state.kon, _d(state.fodelsedatum)
    head = (case_id, kommun, ref)
    child = (kon, born)

    frister, until = _frister_of(case_id, state, events, policy, today=today)

    avbrott: dict[str, list[list[str | None]]] = {}
    skal: dict[str, list[list[str | None]]] = {}
    rapporter: dict[str, list[list[str]]] = {}
    delegat: dict[str, tuple[str, str, Any]] = {}
    hord: dict[str, date] = {}
    ej_hord: dict[str, tuple[date, str]] = {}
    enkat: dict[str, date] = {}
    heard_loose: list[tuple[date, bool, str | None]] = []
    forhands: dict[str, date] = {}
    uppf: list[Row] = []
    lvu: list[Row] = []
    for ev in events:
        t, d, day = ev.type, ev.data, ev.legal_date
        if t == "beslut_fattat":
            dl = d["delegat"]
            delegat.setdefault(d["beslut_id"], (dl["id"], dl["roll"], d.get("belopp_per_dygn")))
        elif t == "verkstallighet_avbruten":
            avbrott.setdefault(d["beslut_id"], []).append([day.isoformat(), None])
        elif t in ("verkstallighet_aterupptagen", "insats_verkstalld"):
            spans = avbrott.get(d["beslut_id"])
            if spans and spans[-1][1] is None:
                spans[-1][1] = day.isoformat()
        elif t == "evb_skal_angivet":
            skal.setdefault(d["beslut_id"], []).append(
                [day.isoformat(), d["skal"], d.get("erbjudet")]
            )
        elif t == "evb_rapporterad":
            rapporter.setdefault(d["beslut_id"], []).append(
                [day.isoformat(), d["kvartal"], d["rapport"]]
            )
        elif t in ("barnet_hort", "barnet_ej_hort"):
            uid = d.get("utredning_id")
            heard = t == "barnet_hort"
            if uid is None:
                if d.get("moment") == "utredning":
                    heard_loose.append((day, heard, d.get("skal")))
            elif heard:
                _first(hord, uid, day)
            else:
                ej_hord[uid] = (day, d["skal"])
        elif t == "barnenkat_erbjuden":
            _first(enkat, d["utredning_id"], day)
        elif t == "forhandsbedomning_beslutad":
            _first(forhands, d["anmalan_id"], day)
        elif t == "insats_uppfoljd":
            uppf.append((*head, *child, len(uppf) + 1, d["beslut_id"], day, bool(d["barnet_hort"])))
        elif t == MARKER:
            lvu.clear()  # the sending kommun's decisions: its lists, not this kommun's
        elif t == "lvu_omhandertagande_beslutat" and d.get("delegat"):
            bid = d.get("beslut_id") or ev.idempotency_key
            lvu.append(
                (
                    *head,
                    *child,
                    bid,
                    day,
                    "LVU 6 §",
                    "lvu_omhandertagande",
                    None,
                    False,
                    d["delegat"]["id"],
                    d["delegat"]["roll"],
                    None,
                    None,
                    None,
                    state.enhet,
                    ivo_id,
                    None,
                    '{"avbrott":[],"rapporter":[]}',
                    None,
                )
            )

    beslut: list[Row] = []
    for bid, b in state.beslut.items():
        if bid in state.transfer.elsewhere:
            continue  # made by the sending kommun, which reports it (POL-OVERFLYTTNING-EVB)
        spans = avbrott.get(bid, [])
        evb_from = evb_duty_from(
            EvbBeslut(
                b.fattat,
                b.gynnande,
                b.insats,
                b.verkstalld,
                b.avslutat,
                tuple((date.fromisoformat(str(a)), _d(e)) for a, e in spans),
            )
        )
        did, droll, belopp = delegat.get(bid, (None, b.delegat_roll, None))
        detail = {"avbrott": spans, "rapporter": rapporter.get(bid, [])}
        reasons = skal.get(bid)
        beslut.append(
            (
                *head,
                *child,
                bid,
                b.fattat,
                b.lagrum,
                b.beslutstyp,
                b.insats,
                b.gynnande,
                did,
                droll,
                belopp,
                b.verkstalld,
                b.avslutat,
                state.enhet,
                ivo_id,
                evb_from,
                orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode(),
                seal(orjson.dumps(reasons)) if reasons else None,
            )
        )
    # An lvu_omhandertagande_beslutat may name the beslut_fattat that records the same decision
    # (its beslut_id is a reference): that row is the decision's one row in the beslut view, so
    # the LVU row is left out (and a second LVU event naming the same id adds nothing).
    seen = {str(b) for b in state.beslut}
    for row in lvu:
        bid = str(row[len(head) + len(child)])
        if bid not in seen:
            seen.add(bid)
            beslut.append(row)

    utredningar: list[Row] = []
    for uid, u in state.utredningar.items():
        original = utredning_original_due(u.inledd)
        heard_on = hord.get(uid)
        reason = ej_hord.get(uid)
        for day, was_heard, why in heard_loose:
            if day >= u.inledd and (u.avslutad is None or day <= u.avslutad):
                if was_heard:
                    heard_on = day if heard_on is None else min(heard_on, day)
                elif reason is None and why is not None:
                    reason = (day, why)
        utredningar.append(
            (
                *head,
                *child,
                uid,
                u.inledd,
                original,
                u.due,
                u.due != original,
                u.avslutad,
                u.utfall,
                heard_on,
                reason[0] if reason else None,
                seal(reason[1].encode()) if reason else None,
                enkat.get(uid),
            )
        )

    anmalningar = [
        (
            *head,
            *child,
            a.id,
            a.received,
            a.skyddsbedomning,
            a.needs_forhandsbedomning,
            forhands.get(a.id),
            a.forhandsbedomning,
        )
        for a in state.anmalningar.values()
    ]
    delegerade = delegation_rows(head, events)
    appeals = overklagande_rows(head, child, state)
    # the folded reports' rows are keyed like ``report_cases``: by the case's first event
    own = (case_id, events[0].kommun, events[0].case_ref)
    ordered = legal_order(events)
    folded = (
        placement_rows(own, events),
        return_rows(own, ivo_id, events),
        aktualisering_rows(own, ordered),
        kontinuitet_rows(own, ordered),
    )
    return (frister, beslut, utredningar, anmalningar, uppf, delegerade, appeals, *folded), until
