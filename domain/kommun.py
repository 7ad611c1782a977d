"""One kommun's configuration as one versioned object: its policy (local frister such as K1's
days, the local verkställighet targets, the U-point choices) and its delegationsordning.

Why versioned by content: a kommun changes its configuration by nämnd decision while cases run.
Whoever computes with a configuration (a case's workflow, the report views, an API answer) names
the exact version it used, and an auditor can read that version back later. The version id is
derived from the content alone (``<kommun>-<first 12 hex digits of sha256(canonical JSON)>``),
so the same content always gets the same id in every process, and two different contents never
share one: a version can be cached anywhere without ever going stale.

The document is the validated JSON form of a kommun file (``infra.config.kommun`` validates the
TOML with pydantic and produces it); this module is pure, so the workflow builds the same domain
objects from a document it loaded through an activity as the API and the views do.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from domain.delegation import (
    DEFAULT_LADDER,
    Delegationsordning,
    RoleLadder,
    ladder_from_document,
    ordning_on,
    ordningar_from_document,
)
from domain.protection import DEFAULT_ROLES
from domain.rules import KommunPolicy, policy_from_mapping

__all__ = [
    "VERSION_DIGITS",
    "KommunConfig",
    "canonical_json",
    "config_version",
    "kommun_config_from_document",
    "skydd_roles",
]

#: Hex digits of sha256 in a version id: 48 bits, far beyond the versions one kommun will have.
VERSION_DIGITS: Final = 12


@dataclass(frozen=True)
class KommunConfig:
    """One version of one kommun's configuration, as the domain computes with it.

    ``delegationsordning`` is ``None`` when the kommun's file has none: its decisions are not
    judged against a delegationsordning (docs/delegationsordning.md). ``ordningar`` are every
    version of the ordning the file lists, oldest first, each in force from its ``giltig_fran``
    (``delegationsordning`` is the newest); ``roller`` the kommun's titles.
    """

    kommun: str
    version: str
    policy: KommunPolicy
    delegationsordning: Delegationsordning | None = None
    namn: str = ""
    ordningar: tuple[Delegationsordning, ...] = ()
    roller: RoleLadder = DEFAULT_LADDER
    #: The roles that read a case with skyddade personuppgifter (``[skydd] roller``;
    #: domain.protection.DEFAULT_ROLES when the file has no ``[skydd]``).
    skydd_roller: tuple[str, ...] = DEFAULT_ROLES

    def ordning_on(self, day: date) -> Delegationsordning | None:
        """The delegationsordning in force on ``day`` (``None``: none yet, or none at all)."""
        return ordning_on(self.ordningar, day)


def canonical_json(document: Mapping[str, Any]) -> bytes:
    """The bytes a version id is computed over: sorted keys, no whitespace, UTF-8."""
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def config_version(document: Mapping[str, Any]) -> str:
    """The version id of a configuration document: its kommun and a digest of its content."""
    digest = hashlib.sha256(canonical_json(document)).hexdigest()[:VERSION_DIGITS]
    return f"{document['kommun']}-{digest}"


def kommun_config_from_document(document: Mapping[str, Any], *, source: str = "") -> KommunConfig:
    """The domain objects of a validated configuration document (see module docstring)."""
    kommun = str(document["kommun"])
    version = config_version(document)
    roller = ladder_from_document(document.get("roller"))
    ordningar = ordningar_from_document(
        document.get("delegationsordning"),
        source or f"kommun configuration {version}",
        kommun=kommun,
        roller=roller,
    )
    return KommunConfig(
        kommun=kommun,
        version=version,
        policy=policy_from_mapping(document),
        delegationsordning=ordningar[-1] if ordningar else None,
        namn=str(document.get("namn") or ""),
        ordningar=ordningar,
        roller=roller,
        skydd_roller=skydd_roles(document),
    )


def skydd_roles(document: Mapping[str, Any] | None) -> tuple[str, ...]:
    """The roles a kommun's document names for protected cases (the default without one)."""
    skydd = (document or {}).get("skydd")
    if not isinstance(skydd, Mapping):
        return DEFAULT_ROLES
    return tuple(str(r) for r in skydd.get("roller") or ())
