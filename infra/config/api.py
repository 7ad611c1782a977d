"""Settings of the HTTP API, read from the environment once at start (like
infra/config/settings.py).

They live here rather than in infra/config/settings.py because only the API process needs them:
``ApiEnvironment`` (pydantic-settings) declares ``BARNFLOW_API_*`` and ``BARNFLOW_JWT_KEY``; a
bad value raises ``SettingsError`` naming the variable, so ``barnflow api`` stops with one line.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from pydantic import BeforeValidator, Field
from pydantic_settings import NoDecode

from infra.config.environment import EmptyIsUnset, EnvironmentModel, SettingsError

if TYPE_CHECKING:  # the settings module (kommun configs, calendars) only for the type
    from infra.config.settings import Settings

#: The roles a bearer token may carry (infra.api.auth checks them; here so that the token
#: lifetime setting can name them without the configuration importing the API).
#: ``handlaggare_skydd``: a handläggare issued to the few who handle cases with skyddade
#: personuppgifter (the default of a kommun's ``[skydd] roller``; domain.protection).
ROLES = ("system", "handlaggare", "arbetsledare", "operator", "auditor", "handlaggare_skydd")

ENV_JWT_KEY = "BARNFLOW_JWT_KEY"
ENV_MAX_BODY = "BARNFLOW_API_MAX_BODY"
ENV_MAX_IMPORT_BODY = "BARNFLOW_API_MAX_IMPORT_BODY"
ENV_MAX_INFLIGHT = "BARNFLOW_API_MAX_INFLIGHT"
ENV_COMMAND_TIMEOUT = "BARNFLOW_API_COMMAND_TIMEOUT"
ENV_MAX_WAIT = "BARNFLOW_API_MAX_WAIT"
ENV_TOKEN_TTL = "BARNFLOW_API_TOKEN_TTL"  # noqa: S105 (a variable name, not a secret)
ENV_TOKEN_TTL_ROLES = "BARNFLOW_API_TOKEN_TTL_ROLES"  # noqa: S105

DEFAULT_TOKEN_TTL = 3600
#: No bearer token lives longer than 30 days, whatever is configured: a leaked token must expire.
MAX_TOKEN_TTL = 30 * 86_400


@dataclass(frozen=True)
class TokenLifetimes:
    """How long a JWT of each role may live, in seconds: ``default`` for every role not named in
    ``by_role``. It is both what ``barnflow token create`` issues without ``--ttl`` and the most
    it issues with it, and the API refuses a token that is valid for longer than its role's
    lifetime (minted elsewhere with the same key), so an operator token can be kept short while
    a system integration's lives longer."""

    default: int = DEFAULT_TOKEN_TTL
    by_role: Mapping[str, int] = field(default_factory=dict)

    def for_role(self, role: str) -> int:
        return self.by_role.get(role, self.default)


@dataclass(frozen=True)
class ApiConfig:
    """Limits and the JWT key.

    ``max_inflight`` bounds concurrent commands: beyond it a caller gets 429 + Retry-After at
    once instead of queueing silently behind a slow Temporal. ``command_timeout`` is how long a
    command may take before the caller gets 503 + Retry-After (the command may still complete;
    a retry with the same idempotency key then returns the original result).
    """

    jwt_key: bytes
    max_body: int = 256 * 1024
    max_import_body: int = 64 * 1024 * 1024
    max_inflight: int = 64
    command_timeout: float = 10.0
    max_wait: float = 10.0
    token_ttl: TokenLifetimes = TokenLifetimes()


def _jwt_key(value: str) -> bytes:
    try:
        key = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    if len(key) < 32:
        raise ValueError("must decode to at least 32 bytes")
    return key


Count = Annotated[int, EmptyIsUnset, Field(gt=0, description="expected a positive integer")]
Seconds = Annotated[
    float,
    EmptyIsUnset,
    Field(gt=0, le=300, allow_inf_nan=False, description="expected 0 < seconds <= 300"),
]


TokenSeconds = Annotated[
    int,
    EmptyIsUnset,
    Field(gt=0, le=MAX_TOKEN_TTL, description=f"expected whole seconds, 1 to {MAX_TOKEN_TTL}"),
]


def _role_lifetimes(value: object) -> object:
    """``operator=900, system=86400`` → ``{"operator": 900, "system": 86400}``; a ValueError
    names the entry that is wrong (unknown role, not ``role=seconds``, out of range)."""
    if not isinstance(value, str):
        return value
    lifetimes: dict[str, int] = {}
    for entry in (p.strip() for p in value.split(",")):
        if not entry:
            continue
        role, sep, seconds = (part.strip() for part in entry.partition("="))
        if not sep or role not in ROLES:
            raise ValueError(
                f"expected role=seconds with a role among {', '.join(ROLES)}, got {entry!r}"
            )
        if role in lifetimes:
            raise ValueError(f"role {role!r} is given twice")
        if not seconds.isdigit() or not 0 < int(seconds) <= MAX_TOKEN_TTL:
            raise ValueError(
                f"{role}: expected whole seconds, 1 to {MAX_TOKEN_TTL}, got {seconds!r}"
            )
        lifetimes[role] = int(seconds)
    return lifetimes


class TokenEnvironment(EnvironmentModel):
    """``BARNFLOW_API_TOKEN_TTL`` and ``BARNFLOW_API_TOKEN_TTL_ROLES``: read by ``barnflow token
    create`` and, checked at start, by ``barnflow api``."""

    token_ttl: TokenSeconds = Field(DEFAULT_TOKEN_TTL, validation_alias=ENV_TOKEN_TTL)
    token_ttl_roles: Annotated[
        dict[str, int], NoDecode, BeforeValidator(_role_lifetimes), EmptyIsUnset
    ] = Field(default_factory=dict, validation_alias=ENV_TOKEN_TTL_ROLES)

    @property
    def lifetimes(self) -> TokenLifetimes:
        return TokenLifetimes(self.token_ttl, dict(self.token_ttl_roles))


def token_lifetimes(env: Mapping[str, str] | None = None) -> TokenLifetimes:
    """The configured token lifetimes, or ``SettingsError`` naming the bad variable."""
    return TokenEnvironment.from_env(env).lifetimes


class JwtKeyEnvironment(EnvironmentModel):
    """``BARNFLOW_JWT_KEY`` alone: ``barnflow token create`` needs the key, not the limits."""

    jwt_key: Annotated[Annotated[bytes, BeforeValidator(_jwt_key)] | None, EmptyIsUnset] = Field(
        None, validation_alias=ENV_JWT_KEY, repr=False
    )


class ApiEnvironment(JwtKeyEnvironment, TokenEnvironment):
    """Everything ``barnflow api`` reads from the environment (defaults: ``ApiConfig``'s)."""

    max_body: Count = Field(ApiConfig.max_body, validation_alias=ENV_MAX_BODY)
    max_import_body: Count = Field(ApiConfig.max_import_body, validation_alias=ENV_MAX_IMPORT_BODY)
    max_inflight: Count = Field(ApiConfig.max_inflight, validation_alias=ENV_MAX_INFLIGHT)
    command_timeout: Seconds = Field(
        ApiConfig.command_timeout, validation_alias=ENV_COMMAND_TIMEOUT
    )
    max_wait: Seconds = Field(ApiConfig.max_wait, validation_alias=ENV_MAX_WAIT)


def _resolve_jwt_key(settings: Settings, given: bytes | None) -> bytes:
    if given is not None:
        return given
    if settings.production:
        raise SettingsError(f"{ENV_JWT_KEY}: required when BARNFLOW_MODE=production")
    return hmac.new(settings.keys.codec, b"barnflow-jwt", hashlib.sha256).digest()


def jwt_key(settings: Settings, env: Mapping[str, str] | None = None) -> bytes:
    """The HS256 key: BARNFLOW_JWT_KEY (base64, ≥ 32 bytes), or in dev a key derived from the
    key file's codec key, so ``barnflow token create`` and ``barnflow api`` on one home agree."""
    return _resolve_jwt_key(settings, JwtKeyEnvironment.from_env(env).jwt_key)


def load_api_config(settings: Settings, env: Mapping[str, str] | None = None) -> ApiConfig:
    given = ApiEnvironment.from_env(env)
    return ApiConfig(
        jwt_key=_resolve_jwt_key(settings, given.jwt_key),
        max_body=given.max_body,
        max_import_body=given.max_import_body,
        max_inflight=given.max_inflight,
        command_timeout=given.command_timeout,
        max_wait=given.max_wait,
        token_ttl=given.lifetimes,
    )
