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
from dataclasses import dataclass
from datetime import date
from typing import Any

import orjson

from domain.calendar import add_days, add_months
from domain.case import fold
from domain.events import CaseEvent
from domain.frister import Frist, compute_frister
from domain.identity import ivo_pseudo_id
from domain.rules import rule

Row = tuple[Any, ...]
Seal = Callable[[bytes], bytes]
IDENTITY_TYPES = frozenset({"anmalan_mottagen", "ansokan_mottagen", "identitet_uppdaterad"})
#: Rules whose instances keep coming with time while nothing happens (EVB quarters, the
#: familjehem anniversaries, IVO's yearly list): their rows depend on the date asked about.
REPEATING_RULES = frozenset({"C4", "D4", "D10"})
#: Repeating frister are generated this far past a case's last event; a report as of a later
#: date recomputes such a case (``frister_until``), so the answer is exact for any date.
HORIZON_MONTHS = 12


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


@dataclass
class FristVersion:
    """A frist as ``compute_frister`` gives it for every as-of date in ``[valid_from, valid_to)``.

    ``fulfilled_date`` may lie after ``valid_to``: status on a date only counts it from then.
    """

    frist: Frist
    valid_from: date
    valid_to: date | None


def _revising_dates(events: list[CaseEvent]) -> list[date]:
    """Legal dates of events that can change an earlier frist other than by meeting it.

    A förlängning moves a due date; for a jourhem placement a later utredning_avslutad moves D7's
    trigger; for familjehem a beslut_avslutat ends D4's anniversaries. Between two such dates,
    every frist is a plain function of dates (it starts on its trigger date, is met on its
    fulfilment date), so one ``compute_frister`` per interval reproduces every day in it.
    """
    insatser = {ev.data.get("insats") for ev in events if ev.type == "beslut_fattat"}
    revising = {"forhandsbedomning_forlangd", "utredning_forlangd"}
    if "jourhem" in insatser:
        revising.add("utredning_avslutad")
    if "familjehem" in insatser:
        revising.add("beslut_avslutat")
    return sorted({ev.legal_date for ev in events if ev.type in revising})


def _visible_from(frister: list[Frist], events: list[CaseEvent]) -> dict[str, date]:
    """The first as-of date on which ``compute_frister`` lists each frist (with trigger ≤ date).

    Usually its trigger date. Some rules count from an earlier date than the event that creates
    the frist: B1 from the ansökan (B2) or the continued utredning (B3) but only once the
    utredning is opened, F1/F2/E15 from an ending but only once the uppföljning starts, D7 from
    an utredning's end but only once the jourhem placement is verkställd, E6/E7 of a 2027 dom
    from the earlier verkställighet but only once the dom is given. A D4 anniversary cycle
    after an unmet one is armed only once the previous due date has passed (the day after).
    """
    out = {f.key: f.trigger_date for f in frister}
    if not frister:
        return out
    created: dict[tuple[str, str], date] = {}
    for ev in events:
        t = ev.type
        if t == "utredning_inledd":
            created.setdefault(("B1", str(ev.data["utredning_id"])), ev.legal_date)
        elif t == "uppfoljning_inledd":
            uid = ev.data.get("uppfoljning_id")
            subject = str(uid) if uid is not None else ev.idempotency_key
            for rid in ("F1", "F2", "E15"):
                created.setdefault((rid, subject), ev.legal_date)
        elif t == "insats_verkstalld":
            created.setdefault(("D7", str(ev.data["beslut_id"])), ev.legal_date)
        elif t == "lvu_dom":
            # POL-LVU2027-E6E7-START: a 2027 dom's first övervägande counts from the earlier
            # verkställighet, but exists only once the dom does
            bid = ev.data.get("beslut_id")
            subject = str(bid) if bid is not None else ev.idempotency_key
            for rid in ("E6", "E7"):
                created.setdefault((rid, subject), ev.legal_date)
    for f in frister:
        made = created.get((f.rule, f.subject))
        if made is not None and made > out[f.key]:
            out[f.key] = made
    d4 = {f.key: f for f in frister if f.rule == "D4"}
    for key, f in d4.items():
        stem, _, n = key.rpartition(":")
        prev = d4.get(f"{stem}:{int(n) - 1}") if n.isdigit() else None
        if (
            prev is not None
            and f.trigger_date == prev.due
            and (prev.fulfilled_date is None or prev.fulfilled_date > prev.due)
        ):
            out[key] = add_days(f.trigger_date, 1)
    return out


def _same_version(a: Frist, b: Frist, start: date) -> bool:
    """Whether ``b`` (from a later interval starting ``start``) continues ``a`` unchanged."""
    if a.fulfilled_date != b.fulfilled_date and not (
        a.fulfilled_date is None and (b.fulfilled_date is None or b.fulfilled_date >= start)
    ):
        return False
    return (
        a.due == b.due
        and a.trigger_date == b.trigger_date
        and a.original_due == b.original_due
        and a.shifted_due == b.shifted_due
        and a.trigger_type == b.trigger_type
        and a.subject == b.subject
        and a.law == b.law
        and a.paragraph == b.paragraph
    )


def frist_versions(
    events: list[CaseEvent], until: date | None = None
) -> tuple[list[FristVersion], date | None]:
    """Every version of every frist of one case, and how far repeating frister were generated.

    ``until`` (default: a year after the last event) bounds the repeating rules; the second
    value is ``None`` when the case has none (its rows are then complete for any date).
    """
    if not events:
        return [], None
    last = max(ev.legal_date for ev in events)
    horizon = until or add_months(last, HORIZON_MONTHS)
    cuts = _revising_dates(events)
    chains: dict[str, list[FristVersion]] = {}
    repeating = False
    starts: list[date | None] = [None, *cuts]
    for j, start in enumerate(starts):
        stop = cuts[j] if j < len(cuts) else None
        frister = compute_frister(events, as_of=add_days(stop, -1) if stop else horizon)
        visible = _visible_from(frister, events)
        if stop is None:
            repeating = _still_repeating(frister, last)
        for f in frister:
            lo = visible[f.key] if start is None else max(start, visible[f.key])
            if stop is not None and lo >= stop:
                continue  # never listed in this interval
            chain = chains.setdefault(f.key, [])
            prev = chain[-1] if chain else None
            if (
                prev is not None
                and start is not None
                and prev.valid_to == start
                and _same_version(prev.frist, f, start)
            ):
                prev.frist, prev.valid_to = f, stop
            else:
                chain.append(FristVersion(f, lo, stop))
    return [v for chain in chains.values() for v in chain], horizon if repeating else None


def _still_repeating(frister: list[Frist], last: date) -> bool:
    """Whether a repeating series may still produce instances after the generation horizon.

    A running series has an instance triggered after the case's last event (a quarter, a
    1 January, an anniversary after the horizon's start), or, for D4, an anniversary not yet
    met (the next one comes once it passes). A series that ended (verkställd, avslutad) has not.
    """
    return any(
        f.rule in REPEATING_RULES
        and (f.trigger_date > last or (f.rule == "D4" and f.fulfilled_date is None))
        for f in frister
    )


def visible_on(versions: list[FristVersion], as_of: date) -> list[Frist]:
    """The frister listed on ``as_of`` (what ``compute_frister`` said then, trigger ≤ as_of)."""
    return [
        v.frist
        for v in versions
        if v.valid_from <= as_of and (v.valid_to is None or v.valid_to > as_of)
    ]


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


def _first(dates: dict[str, date], key: str, day: date) -> None:
    if key not in dates:
        dates[key] = day


def case_rows(
    case_id: str, events: list[CaseEvent], ivo_id: str | None, seal: Seal
) -> tuple[tuple[list[Row], ...], date | None]:
    """Rows of ``projections.tables.ROW_TABLES`` for one case (events in stream order), and the
    case's ``frister_until`` (see ``frist_versions``)."""
    state = fold(events)
    kommun, ref = state.kommun, state.case_ref
    kon, born = state.kon, _d(state.fodelsedatum)
    head = (case_id, kommun, ref)
    child = (kon, born)

    versions, until = frist_versions(events)
    frister = frist_view_rows(head, versions, state.enhet, state.handlaggare)

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
        spans = avbrott.get(bid, [])
        evb_from: date | None = None
        if b.gynnande and b.insats is not None:
            due = rule("C2").due_from(b.fattat)
            if b.verkstalld is None or b.verkstalld > due:
                evb_from = add_days(due, 1)
            for start, end in spans:
                adue = rule("C3").due_from(date.fromisoformat(str(start)))
                if end is None or date.fromisoformat(end) > adue:
                    cand = add_days(adue, 1)
                    evb_from = cand if evb_from is None else min(evb_from, cand)
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
    beslut.extend(lvu)

    utredningar: list[Row] = []
    for uid, u in state.utredningar.items():
        original = rule("B1").due_from(u.inledd)
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
    return (frister, beslut, utredningar, anmalningar, uppf), until
