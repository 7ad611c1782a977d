"""Configuration from the environment, validated once at start.

Only ``infra/`` reads environment variables. A bad value stops the process with one line naming
the setting (``SettingsError``), before any server is started or any data is touched.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psycopg.conninfo

from infra.config.kommun import KommunConfigError, KommunConfigs, load_kommun_dir
from workflows.messages import DEFAULT_ALERT_SETTLE_SECONDS

ENV_HOME = "BARNFLOW_HOME"
ENV_DATABASE_URL = "BARNFLOW_DATABASE_URL"
ENV_DATABASE_SCHEMA = "BARNFLOW_DATABASE_SCHEMA"
ENV_TEMPORAL_ADDRESS = "BARNFLOW_TEMPORAL_ADDRESS"
ENV_TEMPORAL_NAMESPACE = "BARNFLOW_TEMPORAL_NAMESPACE"
ENV_TASK_QUEUE = "BARNFLOW_TASK_QUEUE"
ENV_MODE = "BARNFLOW_MODE"
ENV_CODEC_KEY = "BARNFLOW_CODEC_KEY"
ENV_PSEUDONYM_KEY = "BARNFLOW_PSEUDONYM_KEY"
ENV_CIPHER_KEY = "BARNFLOW_CIPHER_KEY"
#: Retired keys (comma-separated base64) that still decrypt, never encrypt: key rotation.
ENV_CIPHER_OLD_KEYS = "BARNFLOW_CIPHER_OLD_KEYS"
ENV_CODEC_OLD_KEYS = "BARNFLOW_CODEC_OLD_KEYS"
#: A directory of kommun configuration files, one TOML file per kommun (docs/rules.md).
ENV_KOMMUN_DIR = "BARNFLOW_KOMMUN_DIR"
#: Replaced by BARNFLOW_KOMMUN_DIR; refused with a migration hint (docs/delegationsordning.md).
ENV_DELEGATION_DIR = "BARNFLOW_DELEGATION_DIR"
#: Seconds without a command before an expired frist is alerted (docs/workflow.md).
ENV_ALERT_SETTLE_SECONDS = "BARNFLOW_ALERT_SETTLE_SECONDS"
#: An upper bound so a typo (minutes for seconds, ms for s) cannot silence alerts for days.
MAX_ALERT_SETTLE_SECONDS = 86_400.0

_HOSTPORT = re.compile(r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$")
_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_QUEUE = re.compile(r"^[A-Za-z0-9_.\-]{1,200}$")
KEY_NAMES = ("codec", "pseudonym", "cipher")


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and says what is expected."""


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the event store lives: an external server, or the embedded one under home."""

    url: str | None
    schema: str

    @property
    def embedded(self) -> bool:
        return self.url is None


@dataclass(frozen=True)
class Keys:
    """Secret keys (32 bytes each): Temporal payload codec, pseudonym HMAC, event store cipher."""

    codec: bytes
    pseudonym: bytes
    cipher: bytes
    #: Retired keys kept for reading only, until ``barnflow keys rotate`` has re-encrypted all.
    cipher_old: tuple[bytes, ...] = ()
    codec_old: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class Settings:
    home: Path
    database: DatabaseSettings
    temporal_address: str | None
    temporal_namespace: str
    task_queue: str
    mode: str
    keys: Keys
    #: kommun → its configuration in force (policy + delegationsordning, versioned), from
    #: BARNFLOW_KOMMUN_DIR/*.toml
    kommun_configs: KommunConfigs = field(default_factory=KommunConfigs)
    #: The settle window of the case workflows this process starts (BARNFLOW_ALERT_SETTLE_SECONDS)
    alert_settle_seconds: float = DEFAULT_ALERT_SETTLE_SECONDS

    @property
    def production(self) -> bool:
        return self.mode == "production"

    def kommun_config(self, kommun: str) -> str | None:
        """The version id of ``kommun``'s configuration in force (None: the defaults apply)."""
        return self.kommun_configs.version(kommun)


def load_kommun_configs(env: Mapping[str, str]) -> KommunConfigs:
    """Every kommun file of ``BARNFLOW_KOMMUN_DIR``, validated once at start.

    A bad file stops the start with one line naming the file and the key path (docs/rules.md).
    ``BARNFLOW_DELEGATION_DIR`` (the delegationsordning alone, before kommun files) is refused
    rather than ignored: ignoring it would silently switch off every delegation check.
    """
    if env.get(ENV_DELEGATION_DIR):
        raise SettingsError(
            f"{ENV_DELEGATION_DIR}: replaced by {ENV_KOMMUN_DIR} (one file per kommun, the "
            "delegationsordning under [delegationsordning]; docs/delegationsordning.md)"
        )
    raw = env.get(ENV_KOMMUN_DIR)
    if not raw:
        return KommunConfigs()
    try:
        return load_kommun_dir(Path(raw).expanduser())
    except KommunConfigError as exc:
        raise SettingsError(f"{ENV_KOMMUN_DIR}: {exc}") from None


def _alert_settle(env: Mapping[str, str]) -> float:
    raw = env.get(ENV_ALERT_SETTLE_SECONDS)
    if not raw:
        return DEFAULT_ALERT_SETTLE_SECONDS
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= MAX_ALERT_SETTLE_SECONDS:  # also refuses nan
        raise SettingsError(
            f"{ENV_ALERT_SETTLE_SECONDS}: seconds between 0 and {MAX_ALERT_SETTLE_SECONDS:.0f},"
            f" got {raw!r}"
        )
    return value


def _decode_key(name: str, value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError as exc:
        raise SettingsError(f"{name}: not valid base64") from exc
    if len(raw) != 32:
        raise SettingsError(f"{name}: must decode to 32 bytes (got {len(raw)})")
    return raw


def _key_file(home: Path) -> Path:
    return home / "keys.json"


def load_or_create_key_file(home: Path) -> dict[str, bytes]:
    """The embedded default's keys: generated on first use, stored with mode 0600 in home."""
    path = _key_file(home)
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise SettingsError(f"{path}: key file must not be readable by others (chmod 600)")
        try:
            data = orjson.loads(path.read_bytes())
            return {n: _decode_key(f"{path}:{n}", data[n]) for n in KEY_NAMES}
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise SettingsError(f"{path}: unreadable key file ({exc})") from exc
    home.mkdir(parents=True, exist_ok=True)
    keys = {n: secrets.token_bytes(32) for n in KEY_NAMES}
    payload = orjson.dumps({n: base64.b64encode(k).decode() for n, k in keys.items()})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(payload)
    return keys


def _old_keys(env: Mapping[str, str], name: str) -> tuple[bytes, ...]:
    """A comma-separated list of base64 keys; the error names the variable and the position."""
    parts = [p.strip() for p in (env.get(name) or "").split(",") if p.strip()]
    return tuple(_decode_key(f"{name}[{i}]", p) for i, p in enumerate(parts))


def _keys(env: Mapping[str, str], home: Path, mode: str) -> Keys:
    """The current keys plus the retired ones (which never encrypt)."""
    keys = _current_keys(env, home, mode)
    return dataclasses.replace(
        keys,
        cipher_old=_old_keys(env, ENV_CIPHER_OLD_KEYS),
        codec_old=_old_keys(env, ENV_CODEC_OLD_KEYS),
    )


def _current_keys(env: Mapping[str, str], home: Path, mode: str) -> Keys:
    given = {
        "codec": env.get(ENV_CODEC_KEY),
        "pseudonym": env.get(ENV_PSEUDONYM_KEY),
        "cipher": env.get(ENV_CIPHER_KEY),
    }
    env_names = {"codec": ENV_CODEC_KEY, "pseudonym": ENV_PSEUDONYM_KEY, "cipher": ENV_CIPHER_KEY}
    decoded = {n: _decode_key(env_names[n], v) for n, v in given.items() if v}
    if len(decoded) == len(given):
        return Keys(decoded["codec"], decoded["pseudonym"], decoded["cipher"])
    if mode == "production":
        missing = next(env_names[n] for n, v in given.items() if not v)
        raise SettingsError(f"{missing}: required when BARNFLOW_MODE=production")
    if any(given.values()):
        missing = next(env_names[n] for n, v in given.items() if not v)
        raise SettingsError(f"{missing}: set all three keys or none (then a key file is used)")
    stored = load_or_create_key_file(home)
    return Keys(stored["codec"], stored["pseudonym"], stored["cipher"])


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting; raise ``SettingsError`` naming the first bad one."""
    env = os.environ if env is None else env
    home = Path(env.get(ENV_HOME) or "./.barnflow").expanduser().resolve()
    if home.exists() and not home.is_dir():
        raise SettingsError(f"{ENV_HOME}: {home} exists and is not a directory")
    mode = env.get(ENV_MODE, "dev")
    if mode not in ("dev", "production"):
        raise SettingsError(f"{ENV_MODE}: must be 'dev' or 'production', got {mode!r}")
    url = env.get(ENV_DATABASE_URL) or None
    if url is not None:
        try:
            parts = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.ProgrammingError as exc:
            raise SettingsError(f"{ENV_DATABASE_URL}: not a PostgreSQL connection URL") from exc
        if not url.startswith(("postgresql://", "postgres://")) and "dbname" not in parts:
            raise SettingsError(f"{ENV_DATABASE_URL}: expected postgresql://user@host:port/db")
    elif mode == "production":
        raise SettingsError(f"{ENV_DATABASE_URL}: required when BARNFLOW_MODE=production")
    schema = env.get(ENV_DATABASE_SCHEMA, "barnflow")
    if not _IDENT.match(schema):
        raise SettingsError(f"{ENV_DATABASE_SCHEMA}: must be a lower-case SQL identifier")
    address = env.get(ENV_TEMPORAL_ADDRESS) or None
    if address is not None and not _HOSTPORT.match(address):
        raise SettingsError(f"{ENV_TEMPORAL_ADDRESS}: expected host:port, got {address!r}")
    namespace = env.get(ENV_TEMPORAL_NAMESPACE, "default")
    if not namespace or len(namespace) > 200:
        raise SettingsError(f"{ENV_TEMPORAL_NAMESPACE}: must be a non-empty namespace name")
    queue = env.get(ENV_TASK_QUEUE, "barnflow")
    if not _QUEUE.match(queue):
        raise SettingsError(f"{ENV_TASK_QUEUE}: letters, digits, '.', '_' and '-' only")
    return Settings(
        home=home,
        database=DatabaseSettings(url=url, schema=schema),
        temporal_address=address,
        temporal_namespace=namespace,
        task_queue=queue,
        mode=mode,
        keys=_keys(env, home, mode),
        kommun_configs=load_kommun_configs(env),
        alert_settle_seconds=_alert_settle(env),
    )
