"""A registerutdrag (GDPR art. 15): everything barnflow stores about one person in one kommun,
for the person themself (``barnflow registerutdrag``; docs/security.md "Registerutdrag").

It lists every event of every case about the person (sealed fields opened, or ``⟨gallrad⟩``),
the frister the engine derives from them, every logged read of those cases (who, role, when,
why: the access log), and the gallring plan (what is kept, what becomes due when). Producing it
is itself a read: one access-log row per case, with the purpose, *before* the document is
returned. The person may be named by personnummer or by a case reference; the personnummer is
used only to find the cases and is never written to a log (the access log holds case ids).
"""

from __future__ import annotations

from datetime import date, datetime
from html import escape
from typing import Any

from domain.frister import compute_frister
from domain.identity import InvalidIdentity, parse_child_identifier
from domain.protection import DEFAULT_ROLES
from infra.audit.protection import PROTECTED_PURPOSE, check_reader
from infra.persistence.access_log import record_access
from infra.persistence.store import CaseStore
from projections.access_reads import case_reads
from projections.retention import group_by_person, kommun_events, plan_rows, plans
from projections.view import ReportsView

#: What the access log records as the purpose prefix of a registerutdrag's reads.
PURPOSE = "registerutdrag"


class PersonNotFound(LookupError):
    """No case of the kommun is about the person named (the message names no number)."""


def _identifier(person: str, as_of: date) -> str | None:
    try:
        return parse_child_identifier(person.strip(), today=as_of).canonical
    except (InvalidIdentity, ValueError):
        return None


def registerutdrag(
    store: CaseStore,
    view: ReportsView,
    kommun: str,
    person: str,
    *,
    who: str,
    role: str,
    purpose: str,
    at: datetime,
    as_of: date,
    pseudonym_key: bytes,
    skydd_roles: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """The document (JSON-ready). ``person``: a personnummer/samordningsnummer/temporary id or a
    case reference of ``kommun``. Raises ``PersonNotFound``.

    ``skydd_roles``: the roles the kommun names for protected cases; when any of the person's
    cases is protected and ``role`` is not one of them, ``ProtectedCase`` is raised before
    anything is read or logged (``None``: the default roles, domain.protection.DEFAULT_ROLES).
    """
    events = kommun_events(store, kommun)
    people = group_by_person(events)
    wanted = _identifier(person, as_of)
    key = None
    for (k, ident), cases in people.items():
        if k != kommun:
            continue
        if (wanted is not None and ident == wanted) or any(
            c and c[0].case_ref == person.strip() for c in cases
        ):
            key = (k, ident)
            break
    if key is None:
        raise PersonNotFound(f"no case in kommun {kommun} is about the person given")
    cases = people[key]
    roles = DEFAULT_ROLES if skydd_roles is None else skydd_roles
    protected = {str(c[0].case_id) for c in cases if c and check_reader(c, role, roles)}
    case_ids = [str(c[0].case_id) for c in cases if c and c[0].case_id]
    for cid in case_ids:  # the read is logged before anything is handed out
        mark = PROTECTED_PURPOSE if cid in protected else ""
        record_access(store, who, role, kommun, cid, f"{PURPOSE}: {purpose}{mark}", at)
    policy = view.policy(kommun)
    out_cases = []
    with view.cursor() as curs:
        for evs in cases:
            cid = str(evs[0].case_id)
            frister = compute_frister(evs, as_of=as_of, policy=policy)
            out_cases.append(
                {
                    "case_ref": evs[0].case_ref,
                    "case_id": cid,
                    "events": [e.to_json() for e in evs],
                    "frister": [
                        {
                            "rule": f.rule,
                            "name": f.name,
                            "trigger_date": f.trigger_date.isoformat(),
                            "due": f.due.isoformat(),
                            "status": f.status_as_of(as_of),
                            "fulfilled_date": f.fulfilled_date.isoformat()
                            if f.fulfilled_date
                            else None,
                            "law": f.law,
                            "paragraph": f.paragraph,
                        }
                        for f in frister
                    ],
                    "reads": case_reads(curs, view.schema, cid, None),
                }
            )
    person_events = [e for evs in cases for e in evs]
    plan = plans(person_events)[0][2]
    return {
        "kommun": kommun,
        "produced_at": at.isoformat(),
        "as_of": as_of.isoformat(),
        "produced_by": {"who": who, "role": role, "purpose": purpose},
        "person": {
            "identifier": None if key[1].startswith("case:") else key[1],
            "birth_date": plan.birth_date.isoformat() if plan.birth_date else None,
        },
        "cases": out_cases,
        "gallring": plan_rows(person_events, as_of=as_of, pseudonym_key=pseudonym_key),
    }


CSS = (
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222}"
    "h1{font-size:20px}h2{font-size:16px;margin-top:24px}table{border-collapse:collapse;"
    "width:100%}th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;"
    "vertical-align:top}th{background:#fafafa}.meta{color:#555}"
)


def _table(headers: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body or '<tr><td>(inga)</td></tr>'}</table>"


def _data(data: dict[str, Any]) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(data.items()))


def render_html(doc: dict[str, Any]) -> str:
    """One self-contained page (no scripts, no external assets), every value escaped."""
    parts = [
        "<!doctype html><html lang='sv'><head><meta charset='utf-8'>",
        f"<title>Registerutdrag {escape(doc['kommun'])}</title><style>{CSS}</style></head><body>",
        "<h1>Registerutdrag: uppgifter om dig i socialtjänstens barnärenden</h1>",
        f"<p class='meta'>Kommun {escape(doc['kommun'])} · framställt "
        f"{escape(doc['produced_at'])} av {escape(doc['produced_by']['who'])} "
        f"({escape(doc['produced_by']['role'])}) · ändamål: "
        f"{escape(doc['produced_by']['purpose'])}</p>",
        f"<p>Person: {escape(str(doc['person']['identifier'] or '(gallrad)'))} · född "
        f"{escape(str(doc['person']['birth_date'] or '–'))}</p>",
    ]
    for case in doc["cases"]:
        parts.append(f"<h2>Ärende {escape(case['case_ref'])}</h2><h3>Händelser</h3>")
        parts.append(
            _table(
                ("position", "datum", "händelse", "av", "uppgifter"),
                [
                    (
                        str(e.get("position", "")),
                        str(e["occurred_at"]),
                        str(e["type"]),
                        f"{e['actor']['id']} ({e['actor']['roll']})",
                        _data(e.get("data") or {}),
                    )
                    for e in case["events"]
                ],
            )
        )
        parts.append("<h3>Frister</h3>")
        parts.append(
            _table(
                ("regel", "frist", "förfallodag", "status", "lagrum"),
                [
                    (f["rule"], f["name"], f["due"], f["status"], f"{f['law']} {f['paragraph']}")
                    for f in case["frister"]
                ],
            )
        )
        parts.append("<h3>Vem har läst ärendet</h3>")
        parts.append(
            _table(
                ("när", "vem", "roll", "varför"),
                [(r["at"], r["who"], r["role"], r["purpose"]) for r in case["reads"]],
            )
        )
    parts.append("<h2>Gallring</h2>")
    parts.append(
        _table(
            ("ärende", "klass", "status", "gallras från", "regel", "lagrum"),
            [
                (
                    r["case_ref"],
                    r["klass"],
                    r["status"],
                    str(r["due"] or "–"),
                    r["rule"],
                    r["paragraph"],
                )
                for r in doc["gallring"]
            ],
        )
    )
    parts.append("</body></html>")
    return "".join(parts)
