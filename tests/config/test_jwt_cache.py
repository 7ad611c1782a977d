"""Verified JWTs are kept per process (infra/api/auth.py, docs/operations.md "Command latency"),
but a kept token still expires: the second use after its ``exp`` is refused like the first
would be, and a token that failed verification is never kept."""

from __future__ import annotations

import secrets
import time

import pytest
import time_machine

from infra.api.auth import authenticate, create_jwt
from infra.api.problems import Problem

KEY = secrets.token_bytes(32)


def test_a_cached_token_is_refused_once_it_has_expired() -> None:
    token = create_jwt(KEY, subject="s", role="system", kommun="1280", ttl_seconds=60)
    header = f"Bearer {token}"
    assert authenticate(None, KEY, header).role == "system"  # type: ignore[arg-type]
    assert authenticate(None, KEY, header).kommun == "1280"  # type: ignore[arg-type]
    with time_machine.travel(time.time() + 61, tick=False), pytest.raises(Problem) as refused:
        authenticate(None, KEY, header)  # type: ignore[arg-type]
    assert refused.value.status == 401
    assert refused.value.detail == "token expired"


def test_a_token_signed_with_another_key_is_refused_every_time() -> None:
    token = create_jwt(secrets.token_bytes(32), subject="s", role="system", kommun="1280")
    for _ in range(2):
        with pytest.raises(Problem) as refused:
            authenticate(None, KEY, f"Bearer {token}")  # type: ignore[arg-type]
        assert refused.value.detail == "invalid token"
