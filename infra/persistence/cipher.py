"""Encryption at rest for the event store, with key ids so that keys can be rotated.

eventsourcing's ``AESCipher`` knows one key: after a rotation every older row would be
unreadable. ``KeyringCipher`` encrypts with the current key and decrypts with the current key or
any retired one, chosen by the key id stored in front of each row. The id is a fingerprint, not
the key, so ``barnflow keys rotate`` can find in SQL the rows still under a retired key without
decrypting anything, and can resume after an interruption.

Row format: ``BFK1`` | key id (8 bytes) | nonce (12) | AES-256-GCM ciphertext and tag. The header
is authenticated (GCM associated data), so swapping ids between rows is detected. Rows written by
eventsourcing's ``AESCipher`` (nonce | tag | ciphertext, no header) are still read, by trying each
configured key; ``keys rotate`` rewrites them into this format.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Cipher
from eventsourcing.utils import Environment

from infra.persistence.nonces import GCM_NONCES

MAGIC = b"BFK1"
KEY_ID_LEN = 8
HEADER_LEN = len(MAGIC) + KEY_ID_LEN
NONCE_LEN = 12
TAG_LEN = 16
#: The eventsourcing environment names this cipher reads (set by
#: ``infra.persistence.store.eventsourcing_env``).
ENV_KEY = "CIPHER_KEY"
ENV_OLD_KEYS = "CIPHER_OLD_KEYS"
TOPIC = "infra.persistence.cipher:KeyringCipher"


class CipherKeyError(ValueError):
    """A stored row cannot be decrypted with any configured key (wrong, missing or damaged)."""


def key_id(key: bytes) -> bytes:
    """A public fingerprint of a cipher key (8 bytes): safe to store, log and compare in SQL."""
    return hashlib.sha256(b"barnflow-cipher:" + key).digest()[:KEY_ID_LEN]


def header_for(key: bytes) -> bytes:
    """The first bytes of every row encrypted with ``key``."""
    return MAGIC + key_id(key)


def stored_key_id(row: bytes) -> str | None:
    """The hex key id a row was encrypted with, or ``None`` for a row without a header."""
    if row[: len(MAGIC)] != MAGIC or len(row) < HEADER_LEN:
        return None
    return row[len(MAGIC) : HEADER_LEN].hex()


def encode_keys(keys: Iterable[bytes]) -> str:
    """Keys as the comma-separated base64 list of ``BARNFLOW_CIPHER_OLD_KEYS``."""
    return ",".join(base64.b64encode(k).decode() for k in keys)


def _decode_keys(text: str | None) -> list[bytes]:
    return [base64.b64decode(p) for p in (text or "").split(",") if p.strip()]


class Keyring:
    """The current key (encrypts) and the retired keys (decrypt only)."""

    def __init__(self, current: bytes, old: Iterable[bytes] = ()) -> None:
        if len(current) != 32:
            raise ValueError("the cipher key must be 32 bytes (AES-256)")
        self.current_header = header_for(current)
        self._current = AESGCM(current)
        self._all: dict[bytes, AESGCM] = {}
        for k in (current, *old):
            if len(k) != 32:
                raise ValueError("every retired cipher key must be 32 bytes (AES-256)")
            self._all.setdefault(key_id(k), AESGCM(k))

    @property
    def current_key_id(self) -> str:
        return self.current_header[len(MAGIC) :].hex()

    def encrypt(self, plaintext: bytes) -> bytes:
        # random, many per system call (``infra.persistence.nonces``: why that is as safe)
        nonce = GCM_NONCES.draw()
        header = self.current_header
        return header + nonce + self._current.encrypt(nonce, plaintext, header)

    def decrypt(self, row: bytes) -> bytes:
        """Plaintext of a row, or ``CipherKeyError`` naming the key id (never the content)."""
        kid = stored_key_id(row)
        if kid is not None:
            aes = self._all.get(bytes.fromhex(kid))
            if aes is not None:
                header, rest = row[:HEADER_LEN], row[HEADER_LEN:]
                try:
                    return aes.decrypt(rest[:NONCE_LEN], rest[NONCE_LEN:], header)
                except InvalidTag as exc:
                    raise CipherKeyError(
                        f"a stored event under cipher key id {kid} fails authentication "
                        "(damaged or altered)"
                    ) from exc
        legacy = self._decrypt_legacy(row)
        if legacy is not None:
            return legacy
        if kid is not None:
            raise CipherKeyError(
                f"a stored event is encrypted with cipher key id {kid}, which is not configured "
                "(set it as BARNFLOW_CIPHER_KEY or add it to BARNFLOW_CIPHER_OLD_KEYS)"
            )
        raise CipherKeyError(
            "a stored event cannot be decrypted with BARNFLOW_CIPHER_KEY or any of "
            "BARNFLOW_CIPHER_OLD_KEYS (wrong key?)"
        )

    def _decrypt_legacy(self, row: bytes) -> bytes | None:
        """eventsourcing ``AESCipher`` rows: nonce | tag | ciphertext, the key found by trial."""
        if len(row) < NONCE_LEN + TAG_LEN:
            return None
        nonce, tag, body = row[:NONCE_LEN], row[NONCE_LEN : NONCE_LEN + TAG_LEN], row[28:]
        for aes in self._all.values():
            try:
                return aes.decrypt(nonce, body + tag, None)
            except InvalidTag:
                continue
        return None


class KeyringCipher(Cipher):
    """eventsourcing's ``Cipher`` interface over a ``Keyring`` built from the environment.

    eventsourcing's ``Environment.get`` also consults ``BARNFLOW_<NAME>`` first, so in a process
    started with the barnflow variables the current and old keys are the same ones settings
    validated.
    """

    def __init__(self, environment: Environment) -> None:
        current = environment.get(ENV_KEY)
        if not current:
            raise OSError(f"'{ENV_KEY}' not in the event store's environment")
        self.keyring = Keyring(
            base64.b64decode(current), _decode_keys(environment.get(ENV_OLD_KEYS))
        )

    def encrypt(self, plaintext: bytes) -> bytes:
        return self.keyring.encrypt(plaintext)

    def decrypt(self, ciphertext: bytes) -> bytes:
        return self.keyring.decrypt(ciphertext)
