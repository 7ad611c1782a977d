"""One case's events → the rows of every read model (pure; no database).

The incremental runner, the rebuild and the as-known-at reports all call ``case_rows``, so the
three can never disagree: a view is always exactly the function of the record up to a position.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date
from typing import Any

import orjson

from domain.calendar import add_days, add_months
from domain.case import fold
from domain.events import CaseEvent
from domain.frister import compute_frister
from domain.identity import ivo_pseudo_id

Row = tuple[Any, ...]
IDENTITY_TYPES = frozenset({"anmalan_mottagen", "ansokan_mottagen", "identitet_uppdaterad"})


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


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def case_rows(case_id: str, events: list[CaseEvent], ivo_id: str | None) -> tuple[list[Row], ...]:
    """Rows of ``projections.tables.ROW_TABLES`` for one case (events in stream order)."""
    state = fold(events)
    kommun, ref = state.kommun, state.case_ref
    kon, born = state.kon, _d(state.fodelsedatum)
    head = (case_id, kommun, ref)
    child = (kon, born)

    frister = [
        (
            *head,
            f.key,
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
            state.enhet,
            state.handlaggare,
        )
        for f in compute_frister(events)
    ]

    avbrott: dict[str, list[list[str | None]]] = {}
    skal: dict[str, list[list[str | None]]] = {}
    rapporter: dict[str, list[list[str]]] = {}
    avslut_orsak: dict[str, str] = {}
    hord: dict[str, bool] = {}
    ej_hord: dict[str, str] = {}
    enkat: set[str] = set()
    heard_loose: list[tuple[date, bool, str | None]] = []
    uppf: list[Row] = []
    lvu: list[Row] = []
    for ev in events:
        t, d, day = ev.type, ev.data, ev.legal_date
        if t == "verkstallighet_avbruten":
            avbrott.setdefault(d["beslut_id"], []).append([day.isoformat(), None, d["skal"]])
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
        elif t == "beslut_avslutat":
            avslut_orsak[d["beslut_id"]] = d["orsak"]
        elif t in ("barnet_hort", "barnet_ej_hort"):
            uid = d.get("utredning_id")
            heard = t == "barnet_hort"
            if uid is None:
                if d.get("moment") == "utredning":
                    heard_loose.append((day, heard, d.get("skal")))
            elif heard:
                hord[uid] = True
            else:
                ej_hord[uid] = d["skal"]
        elif t == "barnenkat_erbjuden":
            enkat.add(d["utredning_id"])
        elif t == "insats_uppfoljd":
            uppf.append((*head, *child, len(uppf) + 1, d["beslut_id"], day, bool(d["barnet_hort"])))
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
                    None,
                    state.enhet,
                    ivo_id,
                    None,
                    "{}",
                )
            )

    delegat: dict[str, tuple[str, str, Any]] = {}
    for ev in events:
        if ev.type == "beslut_fattat":
            dd = ev.data
            delegat.setdefault(
                dd["beslut_id"],
                (dd["delegat"]["id"], dd["delegat"]["roll"], dd.get("belopp_per_dygn")),
            )
    beslut: list[Row] = []
    for bid, b in state.beslut.items():
        spans = avbrott.get(bid, [])
        evb_from: date | None = None
        if b.gynnande and b.insats is not None:
            due = add_months(b.fattat, 3)
            if b.verkstalld is None or b.verkstalld > due:
                evb_from = add_days(due, 1)
            for start, end, _ in spans:
                adue = add_months(date.fromisoformat(str(start)), 3)
                if end is None or date.fromisoformat(end) > adue:
                    cand = add_days(adue, 1)
                    evb_from = cand if evb_from is None else min(evb_from, cand)
        did, droll, belopp = delegat.get(bid, (None, b.delegat_roll, None))
        detail = {"avbrott": spans, "skal": skal.get(bid, []), "rapporter": rapporter.get(bid, [])}
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
                avslut_orsak.get(bid) if b.avslutat else None,
                state.enhet,
                ivo_id,
                evb_from,
                orjson.dumps(detail, option=orjson.OPT_SORT_KEYS).decode(),
            )
        )
    beslut.extend(lvu)

    utredningar: list[Row] = []
    for uid, u in state.utredningar.items():
        original = add_months(u.inledd, 4)
        heard, reason = hord.get(uid, False), ej_hord.get(uid)
        for day, was_heard, why in heard_loose:
            if day >= u.inledd and (u.avslutad is None or day <= u.avslutad):
                heard = heard or was_heard
                reason = reason or why
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
                heard,
                None if heard else reason,
                uid in enkat,
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
            _forhands_date(events, a.id),
            a.forhandsbedomning,
        )
        for a in state.anmalningar.values()
    ]
    return frister, beslut, utredningar, anmalningar, uppf


def _forhands_date(events: list[CaseEvent], anmalan_id: str) -> date | None:
    for ev in events:
        if ev.type == "forhandsbedomning_beslutad" and ev.data.get("anmalan_id") == anmalan_id:
            return ev.legal_date
    return None
