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
from dataclasses import dataclass
from typing import Annotated

from pydantic import BeforeValidator, Field

from infra.config.environment import EmptyIsUnset, EnvironmentModel
from infra.config.settings import Settings, SettingsError

ENV_JWT_KEY = "BARNFLOW_JWT_KEY"
ENV_MAX_BODY = "BARNFLOW_API_MAX_BODY"
ENV_MAX_IMPORT_BODY = "BARNFLOW_API_MAX_IMPORT_BODY"
ENV_MAX_INFLIGHT = "BARNFLOW_API_MAX_INFLIGHT"
ENV_COMMAND_TIMEOUT = "BARNFLOW_API_COMMAND_TIMEOUT"
ENV_MAX_WAIT = "BARNFLOW_API_MAX_WAIT"


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


class JwtKeyEnvironment(EnvironmentModel):
    """``BARNFLOW_JWT_KEY`` alone: ``barnflow token create`` needs the key, not the limits."""

    jwt_key: Annotated[Annotated[bytes, BeforeValidator(_jwt_key)] | None, EmptyIsUnset] = Field(
        None, validation_alias=ENV_JWT_KEY, repr=False
    )


class ApiEnvironment(JwtKeyEnvironment):
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
    )
