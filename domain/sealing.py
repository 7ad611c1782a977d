"""Which fields of an event are sealed under a per-case data key, and how a stored envelope is
put back together (crypto-shredding; docs/security.md "Data keys and gallring").

Pure: ``infra.persistence.datakeys`` holds the keys and does the encryption; this module only
splits an envelope into what stays readable under the kommun's key (type, dates, ids, labels:
what the case's fold, the hash chains and aggregate statistics need) and what is sealed per
key bucket: the child's identity under ``identitet``, free text under the entry's retention
class (``domain.retention.key_bucket``). When a bucket's key is destroyed its fields read
``SHREDDED`` and nothing else of the event changes, so the record's shape, its chains and the
counts of past periods stay as they were.
"""

from __future__ import annotations

from typing import Any, Final

from domain.retention import IDENTITY

#: The envelope key holding the sealed tokens, ``{bucket: token}``.
SEALED_KEY: Final = "sealed"
#: What a sealed field holds in the stored envelope (readable only with its bucket's key).
SEALED: Final = "⟨förseglad⟩"
#: What a sealed field reads once its bucket's key was destroyed by gallring.
SHREDDED: Final = "⟨gallrad⟩"
#: The child's identity fields inside ``barn`` (``kon`` stays: a label the statistics count).
IDENTITY_FIELDS: Final = ("personnummer", "tillfalligt_id", "fodelsedatum")
#: Free-text fields that may carry what a person said or why (docs/domain.md §4). Ids, labels,
#: ``lagrum``, ``beslutstyp``, ``moment`` and ``grund`` stay readable: the fold and the reports'
#: counts branch on them.
TEXT_FIELDS: Final = frozenset(
    {
        "skal",
        "satt",
        "slutsats",
        "orsak",
        "sokande",
        "syfte",
        "erbjudet",
        # a placement's recorded exception and särskilda skäl (docs/domain.md §7.7)
        "hem_undantag_skal",
        "sarskilda_skal",
    }
)
#: ``TEXT_FIELDS`` in the order their tokens' plaintext lists them (sorted once, not per event:
#: a bulk import splits every line).
_TEXT_ORDER: Final = tuple(sorted(TEXT_FIELDS))


def split(envelope: dict[str, Any], bucket: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the envelope to store, with placeholders; ``{bucket: fields}`` to seal). Nothing to
    seal gives the envelope unchanged and ``{}``."""
    given = envelope.get("data") or {}
    barn = given.get("barn")
    hidden = (
        {k: barn[k] for k in IDENTITY_FIELDS if barn.get(k) is not None}
        if isinstance(barn, dict)
        else {}
    )
    text = {k: given[k] for k in _TEXT_ORDER if isinstance(given.get(k), str)}
    if not hidden and not text:
        return envelope, {}
    data = dict(given)
    secrets: dict[str, dict[str, Any]] = {}
    if hidden and isinstance(barn, dict):
        kept = {k: v for k, v in barn.items() if k not in IDENTITY_FIELDS}
        for kind in ("personnummer", "tillfalligt_id"):
            if kind in hidden:
                kept["identitet"] = kind
        kept[SEALED_KEY] = True
        data["barn"] = kept
        secrets[IDENTITY] = {"barn": hidden}
    if text:
        for k in text:
            data[k] = SEALED
        secrets[bucket] = text
    return {**envelope, "data": data}, secrets


def merge(envelope: dict[str, Any], opened: dict[str, dict[str, Any] | None]) -> dict[str, Any]:
    """The envelope with each bucket's fields restored (``opened[bucket]``), or marked
    ``SHREDDED`` where the bucket's key is gone (``None``). The ``sealed`` tokens are dropped."""
    if SEALED_KEY not in envelope:
        return envelope
    out = {k: v for k, v in envelope.items() if k != SEALED_KEY}
    data = dict(out.get("data") or {})
    for bucket in envelope[SEALED_KEY]:
        fields = opened.get(bucket)
        if bucket == IDENTITY:
            barn = {k: v for k, v in dict(data.get("barn") or {}).items() if k != SEALED_KEY}
            if fields is not None:
                barn.update(fields["barn"])
                barn.pop("identitet", None)
            else:
                barn["identitet"] = SHREDDED
            data["barn"] = barn
        elif fields is not None:
            data.update(fields)
        else:
            data.update({k: SHREDDED for k, v in data.items() if v == SEALED})
    out["data"] = data
    return out


def holds_clear_personal(stored: dict[str, Any]) -> bool:
    """A stored envelope with an identity or free text that is not sealed: written before data
    keys existed, so no key can be destroyed for it (docs/security.md, the migration)."""
    return SEALED_KEY not in stored and bool(split(stored, IDENTITY)[1])
