"""Temporal TLS settings are read and checked at start (issue 21, item 3): a missing file, a key
that is not the certificate's, an expired certificate or half of an mTLS pair is one line naming
the variable, before anything connects."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from infra.config.settings import SettingsError
from infra.config.transport import load_transport
from tests.deploy.certs import CA

pytestmark = pytest.mark.fast


def _env(**given: Path | str) -> dict[str, str]:
    return {f"BARNFLOW_TEMPORAL_{k.upper()}": str(v) for k, v in given.items()}


def test_plaintext_by_default_and_tls_implied_by_any_setting(tmp_path: Path) -> None:
    assert load_transport({}).describe == "plaintext"
    ca = CA(tmp_path, "ca")
    assert load_transport(_env(tls_ca=ca.pem)).describe == "TLS"
    assert load_transport(_env(api_key="k")).describe == "TLS + API key"
    client = ca.issue("worker", server=False)
    mtls = load_transport(_env(tls_ca=ca.pem, tls_cert=client.cert, tls_key=client.key))
    assert mtls.describe == "mTLS" and mtls.tls
    assert "BEGIN" not in repr(mtls)  # key material never in a repr (logs)


def test_each_broken_piece_is_one_line_naming_its_variable(tmp_path: Path) -> None:
    ca = CA(tmp_path, "ca")
    client = ca.issue("worker", server=False)
    other = ca.issue("other", server=False)
    expired = ca.issue(
        "old", server=False, valid_from=datetime.now(UTC) - timedelta(days=3), days=1
    )
    cases = {
        "BARNFLOW_TEMPORAL_TLS_CA: cannot read": _env(tls_ca=tmp_path / "absent.pem"),
        "BARNFLOW_TEMPORAL_TLS_CA: ": _env(tls_ca=client.key),  # a key, not a certificate
        "BARNFLOW_TEMPORAL_TLS_KEY: mutual TLS needs both": _env(tls_cert=client.cert),
        "BARNFLOW_TEMPORAL_TLS_CERT: mutual TLS needs both": _env(tls_key=client.key),
        "is not the key of the certificate": _env(tls_cert=client.cert, tls_key=other.key),
        "BARNFLOW_TEMPORAL_TLS_CERT: the certificate in": _env(
            tls_cert=expired.cert, tls_key=expired.key
        ),
        "BARNFLOW_TEMPORAL_TLS: must be true or false": _env(tls="maybe"),
    }
    for expected, env in cases.items():
        with pytest.raises(SettingsError) as err:
            load_transport(env)
        message = str(err.value)
        assert expected in message and "\n" not in message, (expected, message)
    with pytest.raises(SettingsError, match="expired on"):
        load_transport(_env(tls_cert=expired.cert, tls_key=expired.key))
