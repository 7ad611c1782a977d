"""Frozen EVB quarters (issue 17 item 3): the evb rows of one kommun and quarter as computed at
the moment of freezing, stored append-only with the store position and a digest, so IVO's
individrapport, the KF statistikrapport and the evb table are printed from the same rows
(``projections.evb_snapshot``) and never disagree, however the record changes afterwards.

A second freeze of a quarter is refused unless it is a replacement with a reason; the
replacement is the next version and the old one stays readable.

Gallring anonymises the rows of a person whose identity it destroyed (``anonymise_snapshots``):
the only change the table lets through (migration 8), recorded on the row with the digest it
had when frozen.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from domain.sealing import SHREDDED
from infra.persistence.db import connection, q
from infra.persistence.schema import evb_snapshot_gallring, evb_snapshot_table, is_current
from infra.persistence.store import CaseStore


def canonical(doc: dict[str, Any]) -> bytes:
    """The bytes a snapshot stores and digests (sorted keys)."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def digest(doc: dict[str, Any]) -> str:
    """``sha256:<hex>`` of the canonical bytes: what an auditor compares with a printout."""
    return "sha256:" + hashlib.sha256(canonical(doc)).hexdigest()


class SnapshotError(Exception):
    """A refused freeze or a missing snapshot: one line for the user."""


@dataclass(frozen=True)
class Snapshot:
    kommun: str
    kvartal: str
    version: int
    position: int
    digest: str
    reason: str | None
    doc: dict[str, Any]


def ensure_table(store: CaseStore) -> None:
    """The snapshot table (a store migrated to version 9 already has it, with its gallring
    columns; the trigger is the one that lets gallring anonymise rows)."""
    from infra.persistence.db import schema_of

    with connection(store) as conn:
        schema = schema_of(store)
        # migrated: it exists, and DDL again only collides with other processes
        if not is_current(conn, schema):
            for stmt in (*evb_snapshot_table(schema), *evb_snapshot_gallring(schema)):
                conn.execute(stmt)
        conn.commit()


def freeze(
    store: CaseStore,
    *,
    kommun: str,
    kvartal: str,
    position: int,
    doc: dict[str, Any],
    seal: Callable[[bytes], bytes],
    replace_reason: str | None = None,
) -> Snapshot:
    """Store ``doc`` (the evb report body) as the next version of the quarter's snapshot."""
    ensure_table(store)
    with connection(store) as conn:
        row = conn.execute(
            q(
                store,
                "SELECT max(version) AS v FROM {s}.evb_snapshot WHERE kommun = %s AND kvartal = %s",
            ),
            (kommun, kvartal),
        ).fetchone()
        latest = row["v"] if row else None
        if latest is not None and not replace_reason:
            raise SnapshotError(
                f"{kommun} {kvartal} is already frozen (version {latest}); "
                "use --replace --reason TEXT for a new version"
            )
        version = (latest or 0) + 1
        dg = digest(doc)
        conn.execute(
            q(
                store,
                "INSERT INTO {s}.evb_snapshot (kommun, kvartal, version, position, digest, "
                "payload, reason) VALUES (%s, %s, %s, %s, %s, %s, %s)",
            ),
            (kommun, kvartal, version, position, dg, seal(canonical(doc)), replace_reason),
        )
        conn.commit()
    return Snapshot(kommun, kvartal, version, position, dg, replace_reason, doc)


def load(
    store: CaseStore,
    kommun: str,
    kvartal: str,
    unseal: Callable[[bytes], bytes],
    version: int | None = None,
) -> Snapshot:
    """The quarter's snapshot (default: the latest version); its digest is checked."""
    ensure_table(store)
    with connection(store) as conn:
        row = conn.execute(
            q(
                store,
                "SELECT * FROM {s}.evb_snapshot WHERE kommun = %s AND kvartal = %s "
                "AND (%s::integer IS NULL OR version = %s) ORDER BY version DESC LIMIT 1",
            ),
            (kommun, kvartal, version, version),
        ).fetchone()
    if row is None:
        which = f"version {version}" if version is not None else "no snapshot"
        raise SnapshotError(f"{kommun} {kvartal}: {which} frozen (barnflow report freeze)")
    doc = orjson.loads(unseal(bytes(row["payload"])))
    if digest(doc) != row["digest"]:
        raise SnapshotError(f"{kommun} {kvartal} version {row['version']}: digest mismatch")
    return Snapshot(
        kommun, kvartal, row["version"], row["position"], row["digest"], row["reason"], doc
    )


#: The row fields of a frozen quarter that name or describe the person (issue 16 item 2): the
#: IVO pseudo-id (it carries the birth year) and the free-text reason and offer. Labels, dates,
#: kön and the age band stay, so every count of the quarter stays as frozen.
PERSONAL_ROW_FIELDS = ("ivo_id", "skal", "erbjudet")


def anonymise_rows(doc: dict[str, Any], case_refs: set[str]) -> int:
    """Anonymise in place the rows of ``case_refs``; how many rows changed."""
    changed = 0
    for row in doc.get("rows") or []:
        if row.get("case_ref") not in case_refs:
            continue
        new = {
            "ivo_id": None,
            "skal": SHREDDED if row.get("skal") is not None else None,
            "erbjudet": SHREDDED if row.get("erbjudet") is not None else None,
        }
        if any(row.get(k) != v for k, v in new.items()):
            row.update(new)
            changed += 1
    return changed


def anonymise_snapshots(
    store: CaseStore, kommun: str, case_refs: set[str], gallringsbeslut: str, at: datetime
) -> int:
    """Anonymise the frozen quarters' rows of cases whose identity gallring destroyed (every
    version of every quarter of ``kommun``); the rows stay, so the quarter's counts do not
    change. The payload and digest are replaced in one transaction that the append-only trigger
    lets through (migration 8); the digest at freezing stays in ``frozen_digest``. Idempotent:
    rows already anonymised are left. Returns how many snapshot versions changed."""
    if not case_refs:
        return 0
    ensure_table(store)
    cipher = store.mapper.cipher
    if cipher is None:
        return 0
    changed = 0
    with connection(store) as conn, conn.transaction():
        conn.execute("SELECT set_config('barnflow.gallring', 'on', true)")
        rows = conn.execute(
            q(
                store,
                "SELECT kvartal, version, payload, digest FROM {s}.evb_snapshot "
                "WHERE kommun = %s ORDER BY kvartal, version FOR UPDATE",
            ),
            (kommun,),
        ).fetchall()
        for row in rows:
            doc = orjson.loads(cipher.decrypt(bytes(row["payload"])))
            if not anonymise_rows(doc, case_refs):
                continue
            conn.execute(
                q(
                    store,
                    "UPDATE {s}.evb_snapshot SET payload = %s, digest = %s, "
                    "frozen_digest = coalesce(frozen_digest, digest), gallrad_at = %s, "
                    "gallringsbeslut = %s WHERE kommun = %s AND kvartal = %s AND version = %s",
                ),
                (
                    cipher.encrypt(canonical(doc)),
                    digest(doc),
                    at,
                    gallringsbeslut,
                    kommun,
                    row["kvartal"],
                    row["version"],
                ),
            )
            changed += 1
    return changed
