"""How barnflow reaches a real Temporal cluster: TLS, mutual TLS or an API key.

A cluster outside the machine is reached over TLS (``BARNFLOW_TEMPORAL_TLS=true``, the system's
root certificates), with a private CA (``BARNFLOW_TEMPORAL_TLS_CA``), a client certificate for
mutual TLS (``BARNFLOW_TEMPORAL_TLS_CERT`` and ``BARNFLOW_TEMPORAL_TLS_KEY``), the name the
server's certificate is issued to when it differs from the address
(``BARNFLOW_TEMPORAL_TLS_SERVER_NAME``), or Temporal Cloud's API key
(``BARNFLOW_TEMPORAL_API_KEY``, which implies TLS). Any of the certificate settings implies TLS.

Everything is read and checked once at start, so a missing file, a key that does not belong to
its certificate or an expired certificate stops the process with one line naming the variable,
instead of a TLS handshake that fails on every retry behind a generic "does not answer".
PostgreSQL's TLS needs no setting of ours: libpq reads it from the database URL
(``?sslmode=verify-full&sslrootcert=/etc/barnflow/pg-ca.pem``; docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

from pydantic import Field

from infra.config.environment import EmptyIsUnset, EnvironmentModel, SettingsError

if TYPE_CHECKING:  # x509 parsing is loaded only with TLS configured, not by every command
    from cryptography import x509

ENV_TLS = "BARNFLOW_TEMPORAL_TLS"
ENV_TLS_CA = "BARNFLOW_TEMPORAL_TLS_CA"
ENV_TLS_CERT = "BARNFLOW_TEMPORAL_TLS_CERT"
ENV_TLS_KEY = "BARNFLOW_TEMPORAL_TLS_KEY"
ENV_TLS_SERVER_NAME = "BARNFLOW_TEMPORAL_TLS_SERVER_NAME"
ENV_API_KEY = "BARNFLOW_TEMPORAL_API_KEY"


@dataclass(frozen=True)
class TemporalTransport:
    """What ``infra.temporal.client.connect`` needs beyond the address: TLS material (PEM bytes,
    read at start) and the API key. ``tls`` False with everything else empty: plaintext."""

    tls: bool = False
    ca: bytes | None = None
    cert: bytes | None = None
    key: bytes | None = None
    server_name: str | None = None
    api_key: str | None = None

    def __repr__(self) -> str:  # never the key material or the API key
        return (
            f"TemporalTransport(tls={self.tls}, ca={self.ca is not None}, "
            f"mtls={self.cert is not None}, server_name={self.server_name!r}, "
            f"api_key={'set' if self.api_key else None})"
        )

    @property
    def describe(self) -> str:
        """One word for start-up lines and ``barnflow setup``: how the connection is secured."""
        if self.cert is not None:
            return "mTLS"
        if self.api_key:
            return "TLS + API key"
        return "TLS" if self.tls else "plaintext"


class TransportEnvironment(EnvironmentModel):
    """The ``BARNFLOW_TEMPORAL_TLS*`` and ``BARNFLOW_TEMPORAL_API_KEY`` variables as given."""

    tls: Annotated[bool, EmptyIsUnset] = Field(
        False, validation_alias=ENV_TLS, description="must be true or false"
    )
    ca: Annotated[Path | None, EmptyIsUnset] = Field(None, validation_alias=ENV_TLS_CA)
    cert: Annotated[Path | None, EmptyIsUnset] = Field(None, validation_alias=ENV_TLS_CERT)
    key: Annotated[Path | None, EmptyIsUnset] = Field(None, validation_alias=ENV_TLS_KEY)
    server_name: Annotated[str | None, EmptyIsUnset] = Field(
        None,
        validation_alias=ENV_TLS_SERVER_NAME,
        pattern=r"^[A-Za-z0-9.\-]{1,253}$",
        description="a DNS name",
    )
    api_key: Annotated[str | None, EmptyIsUnset] = Field(
        None, validation_alias=ENV_API_KEY, repr=False, min_length=1
    )


def _read(name: str, path: Path) -> bytes:
    try:
        return path.expanduser().read_bytes()
    except OSError as exc:
        raise SettingsError(f"{name}: cannot read {path} ({exc.strerror})") from None


def _certificates(name: str, path: Path, now: datetime) -> tuple[bytes, list[x509.Certificate]]:
    """The PEM file's bytes and its certificates; none, or an expired one, is a one-line error."""
    from cryptography import x509

    data = _read(name, path)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise SettingsError(f"{name}: {path} holds no PEM certificate") from None
    for cert in certs:
        if cert.not_valid_after_utc < now:
            raise SettingsError(
                f"{name}: the certificate in {path} expired on "
                f"{cert.not_valid_after_utc:%Y-%m-%d} ({cert.subject.rfc4514_string()})"
            )
    return data, certs


def _private_key(path: Path, cert: x509.Certificate) -> bytes:
    """The client key's PEM bytes, checked to belong to the client certificate."""
    from cryptography.hazmat.primitives import serialization

    data = _read(ENV_TLS_KEY, path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        raise SettingsError(f"{ENV_TLS_KEY}: {path} holds no unencrypted PEM private key") from None
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    enc = serialization.Encoding.DER
    if key.public_key().public_bytes(enc, pub) != cert.public_key().public_bytes(enc, pub):
        raise SettingsError(
            f"{ENV_TLS_KEY}: {path} is not the key of the certificate in {ENV_TLS_CERT}"
        )
    return data


def load_transport(env: Mapping[str, str] | None = None) -> TemporalTransport:
    """The Temporal transport from the environment, every file read and checked now."""
    given = TransportEnvironment.from_env(env)
    now = datetime.now(UTC)
    if (given.cert is None) != (given.key is None):
        missing = ENV_TLS_KEY if given.key is None else ENV_TLS_CERT
        raise SettingsError(f"{missing}: mutual TLS needs both {ENV_TLS_CERT} and {ENV_TLS_KEY}")
    ca = None if given.ca is None else _certificates(ENV_TLS_CA, given.ca, now)[0]
    cert = key = None
    if given.cert is not None and given.key is not None:
        cert, chain = _certificates(ENV_TLS_CERT, given.cert, now)
        key = _private_key(given.key, chain[0])
    tls = given.tls or any(v is not None for v in (ca, cert, given.server_name, given.api_key))
    return TemporalTransport(
        tls=tls, ca=ca, cert=cert, key=key, server_name=given.server_name, api_key=given.api_key
    )
