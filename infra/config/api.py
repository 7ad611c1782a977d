"""Settings of the HTTP API, read from the environment once at start (like
infra/config/settings.py).

They live here rather than in infra/config/settings.py because only the API process needs them; a
bad value raises ``SettingsError`` naming the variable, so ``barnflow api`` stops with one line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping
from dataclasses import dataclass

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


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: expected a positive integer, got {raw!r}") from exc
    if value <= 0:
        raise SettingsError(f"{name}: expected a positive integer, got {raw!r}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise SettingsError(f"{name}: expected seconds as a number, got {raw!r}") from exc
    if not 0 < value <= 300:
        raise SettingsError(f"{name}: expected 0 < seconds <= 300, got {raw!r}")
    return value


def jwt_key(settings: Settings, env: Mapping[str, str]) -> bytes:
    """The HS256 key: BARNFLOW_JWT_KEY (base64, ≥ 32 bytes), or in dev a key derived from the
    key file's codec key, so ``barnflow token create`` and ``barnflow api`` on one home agree."""
    raw = env.get(ENV_JWT_KEY)
    if raw:
        try:
            key = base64.b64decode(raw, validate=True)
        except ValueError as exc:
            raise SettingsError(f"{ENV_JWT_KEY}: not valid base64") from exc
        if len(key) < 32:
            raise SettingsError(f"{ENV_JWT_KEY}: must decode to at least 32 bytes")
        return key
    if settings.production:
        raise SettingsError(f"{ENV_JWT_KEY}: required when BARNFLOW_MODE=production")
    return hmac.new(settings.keys.codec, b"barnflow-jwt", hashlib.sha256).digest()


def load_api_config(settings: Settings, env: Mapping[str, str] | None = None) -> ApiConfig:
    env = os.environ if env is None else env
    return ApiConfig(
        jwt_key=jwt_key(settings, env),
        max_body=_int(env, ENV_MAX_BODY, ApiConfig.max_body),
        max_import_body=_int(env, ENV_MAX_IMPORT_BODY, ApiConfig.max_import_body),
        max_inflight=_int(env, ENV_MAX_INFLIGHT, ApiConfig.max_inflight),
        command_timeout=_float(env, ENV_COMMAND_TIMEOUT, ApiConfig.command_timeout),
        max_wait=_float(env, ENV_MAX_WAIT, ApiConfig.max_wait),
    )
