"""Who is calling, and what they may see or change.

A bearer token is either a JWT (HS256, configured key) or an API key (``bfk_…``, stored only as
its SHA-256). Both carry the same claims: role, kommun, units. A caller sees and changes only its
kommun and, when ``units`` is non-empty, only cases of those units. Operators see workflow state
but never case content; auditors read everything in their kommun and change nothing.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jwt

from domain.events import KOMMUN_RE
from infra.api.problems import Problem
from infra.config.api import ROLES, TokenLifetimes
from infra.persistence.db import connection, q
from infra.persistence.store import CaseStore

WRITERS = frozenset({"system", "handlaggare", "arbetsledare", "handlaggare_skydd"})
CONTENT_READERS = frozenset(
    {"system", "handlaggare", "arbetsledare", "auditor", "handlaggare_skydd"}
)
API_KEY_PREFIX = "bfk_"
_BEARER = {"WWW-Authenticate": "Bearer"}


@dataclass(frozen=True)
class Principal:
    """The authenticated caller. ``units`` empty = every unit of the kommun."""

    subject: str
    role: str
    kommun: str
    units: tuple[str, ...] = ()

    @property
    def may_write(self) -> bool:
        return self.role in WRITERS

    @property
    def may_read_content(self) -> bool:
        return self.role in CONTENT_READERS

    def sees_unit(self, enhet: str | None) -> bool:
        """Auditors see the whole kommun; a unit-bound caller only its units' cases."""
        if self.role == "auditor" or not self.units:
            return True
        return enhet is not None and enhet in self.units

    def require_kommun(self, kommun: str) -> None:
        if kommun != self.kommun:
            raise Problem(
                403,
                "forbidden-kommun",
                f"the caller may not act in kommun {kommun}",
                field="kommun",
            )

    def require_write(self) -> None:
        if not self.may_write:
            raise Problem(403, "forbidden-role", f"role {self.role} may not send commands")

    def require_content(self) -> None:
        if not self.may_read_content:
            raise Problem(403, "forbidden-role", f"role {self.role} may not read case content")

    def require_role(self, roles: Iterable[str]) -> None:
        allowed = tuple(roles)
        if self.role not in allowed:
            raise Problem(
                403, "forbidden-role", f"role {self.role} may not do this ({', '.join(allowed)})"
            )


def _claims(role: object, kommun: object, units: object, subject: object) -> Principal:
    if role not in ROLES:
        raise Problem(401, "unauthorized", "token has no valid role", headers=_BEARER)
    if not isinstance(kommun, str) or not KOMMUN_RE.match(kommun):
        raise Problem(401, "unauthorized", "token has no valid kommun", headers=_BEARER)
    if not isinstance(units, list | tuple) or not all(isinstance(u, str) for u in units):
        raise Problem(401, "unauthorized", "token units must be a list of strings", headers=_BEARER)
    if not isinstance(subject, str) or not subject:
        raise Problem(401, "unauthorized", "token has no subject", headers=_BEARER)
    return Principal(subject, str(role), kommun, tuple(units))


def create_jwt(
    key: bytes,
    *,
    subject: str,
    role: str,
    kommun: str,
    units: Iterable[str] = (),
    ttl_seconds: int = 3600,
    issued_at: int | None = None,
) -> str:
    """A signed bearer token (for ``barnflow token create`` and tests). ``issued_at`` (Unix
    seconds, default now): a test under a moved clock mints for a server on the real one."""
    principal = _claims(role, kommun, list(units), subject)  # refuse to mint a bad token
    now = int(time.time()) if issued_at is None else issued_at
    payload = {
        "sub": principal.subject,
        "role": principal.role,
        "kommun": principal.kommun,
        "units": list(principal.units),
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(payload, key, algorithm="HS256")


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_key(
    store: CaseStore, *, subject: str, role: str, kommun: str, units: Iterable[str] = ()
) -> str:
    """Mint an API key; only its hash is stored, so the key is shown exactly once."""
    principal = _claims(role, kommun, list(units), subject)
    token = API_KEY_PREFIX + secrets.token_urlsafe(32)
    with connection(store) as conn:
        conn.execute(
            q(
                store,
                "INSERT INTO {s}.api_keys (key_hash, subject, role, kommun, units)"
                " VALUES (%s, %s, %s, %s, %s)",
            ),
            (
                hash_key(token),
                principal.subject,
                principal.role,
                principal.kommun,
                list(principal.units),
            ),
        )
        conn.commit()
    return token


def _api_key(store: CaseStore, token: str) -> Principal:
    with connection(store) as conn:
        row: Any = conn.execute(
            q(
                store,
                "SELECT subject, role, kommun, units FROM {s}.api_keys"
                " WHERE key_hash = %s AND revoked_at IS NULL",
            ),
            (hash_key(token),),
        ).fetchone()
    if row is None:
        raise Problem(401, "unauthorized", "unknown or revoked API key", headers=_BEARER)
    return _claims(row["role"], row["kommun"], list(row["units"]), row["subject"])


#: Clock skew allowed between the host that minted a token and this one.
TTL_LEEWAY_SECONDS = 60


#: Verified JWTs kept per process: a caller sends the same token with every command, and its
#: signature and claims need checking once (bench/api.py --profile). Bounded; a token that fails
#: is not kept (the exception passes through the cache), and expiry is judged on every use.
JWT_CACHE_SIZE = 1024


@functools.lru_cache(maxsize=JWT_CACHE_SIZE)
def _verified_jwt(key: bytes, token: str) -> tuple[Principal, float]:
    """The caller a JWT names and when it expires, once its signature and claims are checked."""
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    except jwt.ExpiredSignatureError:
        raise Problem(401, "unauthorized", "token expired", headers=_BEARER) from None
    except jwt.InvalidTokenError:
        raise Problem(401, "unauthorized", "invalid token", headers=_BEARER) from None
    principal = _claims(
        claims.get("role"), claims.get("kommun"), claims.get("units", []), claims.get("sub")
    )
    return principal, float(claims["exp"])


def authenticate(
    store: CaseStore,
    key: bytes,
    authorization: str | None,
    lifetimes: TokenLifetimes | None = None,
) -> Principal:
    """The caller behind an ``Authorization: Bearer …`` header, or 401.

    With ``lifetimes``, a JWT still valid for longer than its role's lifetime is refused: a key
    shared with another issuer must not let it mint a year-long operator token."""
    if not authorization:
        raise Problem(401, "unauthorized", "missing bearer token", headers=_BEARER)
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Problem(
            401, "unauthorized", "expected 'Authorization: Bearer <token>'", headers=_BEARER
        )
    if token.startswith(API_KEY_PREFIX):
        return _api_key(store, token)
    principal, expires = _verified_jwt(key, token)
    now = time.time()
    if expires <= now:  # as jwt.decode judges it; checked on every use, not only the first
        raise Problem(401, "unauthorized", "token expired", headers=_BEARER)
    if lifetimes is not None:
        allowed = lifetimes.for_role(principal.role)
        if expires - now > allowed + TTL_LEEWAY_SECONDS:
            raise Problem(
                401,
                "unauthorized",
                f"token lives longer than role {principal.role} may ({allowed} s)",
                headers=_BEARER,
            )
    return principal
