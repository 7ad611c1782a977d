"""The file of Socialstyrelsen's yearly return (``barnflow report arsstatistik --output FILE``;
docs/reports.md "arsstatistik"): the report's records with the child's identifier, written by
a swappable layout (``domain.returns.layout``).

The views hold no personnummer, so the identifiers are read from the record (the event store)
for exactly the cases in the return, and each such read is logged in the access log (who, role,
when, purpose ``arsstatistik: …``) before the file is written, as the registerutdrag does.

A protected child (skyddade personuppgifter) is in the file with its personnummer
(POL-ARSSTAT-SKYDD, docs/law.md §13): the return is a duty (SoL 2025:400 15 kap. 2 §, förordning
1981:1370), so the child is not left out; but the file is written only in a role the kommun
names for protected cases (``[skydd] roller``, POL-SKYDD-ATKOMST), checked before anything is
read or logged, and the log row is marked ``[skyddade personuppgifter]`` so the disclosure can be
found. The file is refused while the validator finds errors (``fel``): nothing is read or logged
then.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from domain.protection import DEFAULT_ROLES
from domain.returns import Finding, RuleSet, own_rule_set
from domain.returns.checks import validate
from domain.returns.identity import return_id
from domain.returns.layout import LAYOUTS, file_line
from infra.audit.protection import PROTECTED_PURPOSE, check_reader
from infra.persistence.access_log import record_access
from infra.persistence.store import CaseStore
from projections.arsstatistik import year_records
from projections.periods import Period
from projections.retention import person_identifier
from projections.source import report_cursor
from projections.view import ReportsView

#: What the access log records as the purpose of the return's reads.
PURPOSE = "arsstatistik: uppgiftsskyldighet till Socialstyrelsen (SFS 1981:1370)"


class ReturnNotReady(Exception):
    """The validator found errors: the file is not written (``errors`` lists them)."""

    def __init__(self, errors: list[Finding]) -> None:
        super().__init__(
            f"the validator found {len(errors)} error(s) in the return; "
            "see them with --validate and correct the record first"
        )
        self.errors = errors


@dataclass(frozen=True)
class ReturnFile:
    """The written file: its bytes, the rule set, how many lines, children and protected ones."""

    data: bytes
    rules: RuleSet
    lines: int
    children: int
    protected: int
    warnings: int


def return_file(
    store: CaseStore,
    view: ReportsView,
    kommun: str,
    period: Period,
    *,
    layout: str,
    who: str,
    role: str,
    at: datetime,
    skydd_roles: tuple[str, ...] | None = None,
) -> ReturnFile:
    """The year's file in ``layout`` (``LAYOUTS``). Raises ``ReturnNotReady``, ``ProtectedCase``
    (a protected child and ``role`` not among ``skydd_roles``; ``None``: the default roles),
    ``KeyError`` for an unknown layout, ``UnknownReturnYear`` for a year without a rule set."""
    writer = LAYOUTS[layout]
    rules = own_rule_set(period.start.year)
    with report_cursor(view, kommun, None) as (curs, schema):
        records = year_records(curs, schema, kommun, rules, view.unseal)
    findings = validate(rules, records)
    errors = [f for f in findings if f.allvar == "fel"]
    if errors:
        raise ReturnNotReady(errors)
    roles = DEFAULT_ROLES if skydd_roles is None else skydd_roles
    cases: dict[str, tuple[str, bool]] = {}
    for case_id in sorted({r.case_id for r in records}):
        events = store.case_events(UUID(case_id))
        ident = person_identifier(events)
        if ident is None:  # pragma: no cover - every case opens with a barn
            raise LookupError(f"case {case_id} names no child")
        cases[case_id] = (ident, check_reader(events, role, roles))  # ProtectedCase first
    for case_id, (_, marked) in cases.items():  # logged before the file exists
        purpose = PURPOSE + (PROTECTED_PURPOSE if marked else "")
        record_access(store, who, role, kommun, case_id, purpose, at)
    identifiers = {case_id: ident for case_id, (ident, _) in cases.items()}
    protected = sum(1 for _, marked in cases.values() if marked)
    lines = [file_line(rules, r, *return_id(identifiers[r.case_id], r.ivo_id)) for r in records]
    return ReturnFile(
        writer.write(rules, lines),
        rules,
        len(lines),
        len(identifiers),
        protected,
        len(findings) - len(errors),
    )
