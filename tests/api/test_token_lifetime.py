"""A JWT valid for longer than its role's lifetime (BARNFLOW_API_TOKEN_TTL, default 3600 s) is
refused by the API with 401, however it was minted; one within it is served."""

from __future__ import annotations

import httpx

from infra.api.auth import create_jwt
from tests.api.conftest import JWT_KEY


def _bearer(ttl: int) -> dict[str, str]:
    jwt = create_jwt(JWT_KEY, subject="op-1", role="operator", kommun="1280", ttl_seconds=ttl)
    return {"Authorization": f"Bearer {jwt}", "X-Barnflow-Purpose": "test"}


async def test_a_token_living_longer_than_its_role_may_is_refused(
    http: httpx.AsyncClient,
) -> None:
    week = await http.get("/events", params={"after": 0, "limit": 1}, headers=_bearer(7 * 86400))
    assert week.status_code == 401
    assert "token lives longer than role operator may (3600 s)" in week.json()["detail"]
    assert "token gäller längre än rollen operator får (3600 s)" in week.text  # the Swedish too
    assert week.headers["www-authenticate"] == "Bearer"
    hour = await http.get("/events", params={"after": 0, "limit": 1}, headers=_bearer(3600))
    assert hour.status_code == 200
