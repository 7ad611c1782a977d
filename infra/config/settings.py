"""Configuration from the environment, validated once at start.

Only ``infra/`` reads environment variables. ``Environment`` (pydantic-settings) declares every
``BARNFLOW_*`` variable with its type, bounds and default; a bad value stops the process with one
line naming the variable (``SettingsError``, ``infra.config.environment``), before any server is
started or any data is touched. ``load_settings`` then resolves what needs the file system (the
dev key file, the kommun configuration files) into ``Settings``, the value every other module reads.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal, Self

import orjson
import psycopg.conninfo
from pydantic import AfterValidator, BeforeValidator, Field, model_validator
from pydantic_settings import NoDecode

from domain.settle import DEFAULT_ALERT_SETTLE_SECONDS
from infra.config.environment import EmptyIsUnset, EnvironmentModel
from infra.config.environment import SettingsError as SettingsError  # noqa: PLC0414 - re-export
from infra.config.kommun import KommunConfigError, KommunConfigs, load_kommun_dir
from infra.config.transport import TemporalTransport, load_transport

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
#: Cases whose aggregate one process keeps in memory (docs/operations.md "Memory").
ENV_AGGREGATE_CACHE = "BARNFLOW_AGGREGATE_CACHE"
#: The default: as many cases as the worker's default sticky cache holds workflows (the cases
#: active within minutes); about 10 KiB each for a short case (docs/operations.md "Memory").
DEFAULT_AGGREGATE_CACHE = 1000
#: An upper bound: at about 10 KiB per short case and more per long one, more would be gigabytes.
MAX_AGGREGATE_CACHE = 100_000

_HOSTPORT = r"^[A-Za-z0-9_.\-\[\]:]+:\d{1,5}$"
_IDENT = r"^[a-z_][a-z0-9_]{0,62}$"
_QUEUE = r"^[A-Za-z0-9_.\-]{1,200}$"
KEY_NAMES = ("codec", "pseudonym", "cipher")


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
    #: TLS, mutual TLS or an API key for a real cluster (``infra.config.transport``)
    temporal_transport: TemporalTransport = field(default_factory=TemporalTransport)
    #: Cases whose aggregate the store keeps in memory (BARNFLOW_AGGREGATE_CACHE)
    aggregate_cache: int = DEFAULT_AGGREGATE_CACHE

    @property
    def temporal_target(self) -> str:
        """The Temporal frontend to connect to (the local default when none is configured)."""
        return self.temporal_address or "127.0.0.1:7233"

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


def decode_key(value: str) -> bytes:
    """A 32-byte key from its base64 form; the ``ValueError`` says what is wrong, never the key."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("not valid base64") from None
    if len(raw) != 32:
        raise ValueError(f"must decode to 32 bytes (got {len(raw)})")
    return raw


def _split_commas(value: object) -> object:
    """``a,b,,c`` → ``["a", "b", "c"]`` (blank entries dropped, as an operator means them)."""
    if isinstance(value, str):
        return [p.strip() for p in value.split(",") if p.strip()]
    return value


def _home(path: Path) -> Path:
    home = path.expanduser().resolve()
    if home.exists() and not home.is_dir():
        raise ValueError(f"{home} exists and is not a directory")
    return home


def _postgres_url(url: str) -> str:
    try:
        parts = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        raise ValueError("not a PostgreSQL connection URL") from None
    if not url.startswith(("postgresql://", "postgres://")) and "dbname" not in parts:
        raise ValueError("expected postgresql://user@host:port/db")
    return url


#: A key from its base64 form (its value never appears in an error: ``repr=False`` fields).
Key = Annotated[bytes, BeforeValidator(decode_key)]
#: Retired keys, comma-separated; an error names the position (``NAME[1]: …``).
OldKeys = Annotated[tuple[Key, ...], NoDecode, BeforeValidator(_split_commas), EmptyIsUnset]


class Environment(EnvironmentModel):
    """The ``BARNFLOW_*`` variables of every barnflow process, as given (nothing is read from
    disk here). Empty means unset for the optional ones; fields are checked in this order."""

    home: Annotated[Path, AfterValidator(_home), EmptyIsUnset] = Field(
        Path("./.barnflow"), validation_alias=ENV_HOME
    )
    mode: Literal["dev", "production"] = Field(
        "dev", validation_alias=ENV_MODE, description="must be 'dev' or 'production'"
    )
    database_url: Annotated[Annotated[str, AfterValidator(_postgres_url)] | None, EmptyIsUnset] = (
        Field(None, validation_alias=ENV_DATABASE_URL, repr=False)
    )  # may hold a password
    database_schema: str = Field(
        "barnflow",
        validation_alias=ENV_DATABASE_SCHEMA,
        pattern=_IDENT,
        description="must be a lower-case SQL identifier",
    )
    temporal_address: Annotated[str | None, EmptyIsUnset] = Field(
        None,
        validation_alias=ENV_TEMPORAL_ADDRESS,
        pattern=_HOSTPORT,
        description="expected host:port",
    )
    temporal_namespace: str = Field(
        "default",
        validation_alias=ENV_TEMPORAL_NAMESPACE,
        min_length=1,
        max_length=200,
        description="must be a non-empty namespace name",
    )
    task_queue: str = Field(
        "barnflow",
        validation_alias=ENV_TASK_QUEUE,
        pattern=_QUEUE,
        description="letters, digits, '.', '_' and '-' only",
    )
    codec_key: Annotated[Key | None, EmptyIsUnset] = Field(
        None, validation_alias=ENV_CODEC_KEY, repr=False
    )
    pseudonym_key: Annotated[Key | None, EmptyIsUnset] = Field(
        None, validation_alias=ENV_PSEUDONYM_KEY, repr=False
    )
    cipher_key: Annotated[Key | None, EmptyIsUnset] = Field(
        None, validation_alias=ENV_CIPHER_KEY, repr=False
    )
    cipher_old_keys: OldKeys = Field((), validation_alias=ENV_CIPHER_OLD_KEYS, repr=False)
    codec_old_keys: OldKeys = Field((), validation_alias=ENV_CODEC_OLD_KEYS, repr=False)
    alert_settle_seconds: Annotated[float, EmptyIsUnset] = Field(
        DEFAULT_ALERT_SETTLE_SECONDS,
        validation_alias=ENV_ALERT_SETTLE_SECONDS,
        ge=0,
        le=MAX_ALERT_SETTLE_SECONDS,
        allow_inf_nan=False,
        description=f"seconds between 0 and {MAX_ALERT_SETTLE_SECONDS:.0f}",
    )
    aggregate_cache: Annotated[int, EmptyIsUnset] = Field(
        DEFAULT_AGGREGATE_CACHE,
        validation_alias=ENV_AGGREGATE_CACHE,
        ge=1,
        le=MAX_AGGREGATE_CACHE,
        description=f"a whole number of cases from 1 to {MAX_AGGREGATE_CACHE}",
    )

    @property
    def current_keys(self) -> dict[str, bytes | None]:
        return {"codec": self.codec_key, "pseudonym": self.pseudonym_key, "cipher": self.cipher_key}

    @model_validator(mode="after")
    def _production_is_complete(self) -> Self:
        """Production names its database and all three keys; dev may leave the keys to the key
        file, but then all of them (a half-configured set is a mistake, not a choice)."""
        env_names = {
            "codec": ENV_CODEC_KEY,
            "pseudonym": ENV_PSEUDONYM_KEY,
            "cipher": ENV_CIPHER_KEY,
        }
        missing = [env_names[n] for n, k in self.current_keys.items() if k is None]
        if self.mode == "production":
            if self.database_url is None:
                raise ValueError(f"{ENV_DATABASE_URL}: required when BARNFLOW_MODE=production")
            if missing:
                raise ValueError(f"{missing[0]}: required when BARNFLOW_MODE=production")
        elif missing and len(missing) < len(env_names):
            raise ValueError(f"{missing[0]}: set all three keys or none (then a key file is used)")
        return self


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
            encoded = {n: data[n] for n in KEY_NAMES}
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise SettingsError(f"{path}: unreadable key file ({exc})") from exc
        return {n: _key_from_file(f"{path}:{n}", v) for n, v in encoded.items()}
    home.mkdir(parents=True, exist_ok=True)
    keys = {n: secrets.token_bytes(32) for n in KEY_NAMES}
    payload = orjson.dumps({n: base64.b64encode(k).decode() for n, k in keys.items()})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(payload)
    return keys


def _key_from_file(name: str, value: object) -> bytes:
    if not isinstance(value, str):
        raise SettingsError(f"{name}: not valid base64")
    try:
        return decode_key(value)
    except ValueError as exc:
        raise SettingsError(f"{name}: {exc}") from None


def _keys(given: Environment) -> Keys:
    """The current keys (from the environment, or in dev the key file under home) plus the
    retired ones, which never encrypt."""
    if given.codec_key and given.pseudonym_key and given.cipher_key:
        codec, pseudonym, cipher = given.codec_key, given.pseudonym_key, given.cipher_key
    else:  # dev and none of the three given: ``Environment`` refuses a partial set
        stored = load_or_create_key_file(given.home)
        codec, pseudonym, cipher = stored["codec"], stored["pseudonym"], stored["cipher"]
    return Keys(
        codec, pseudonym, cipher, cipher_old=given.cipher_old_keys, codec_old=given.codec_old_keys
    )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read and validate every setting (``env``: the whole environment, default the process's);
    raise ``SettingsError`` naming the first bad one."""
    given = Environment.from_env(env)
    return Settings(
        home=given.home,
        database=DatabaseSettings(url=given.database_url, schema=given.database_schema),
        temporal_address=given.temporal_address,
        temporal_namespace=given.temporal_namespace,
        task_queue=given.task_queue,
        mode=given.mode,
        keys=_keys(given),
        kommun_configs=load_kommun_configs(os.environ if env is None else env),
        alert_settle_seconds=given.alert_settle_seconds,
        temporal_transport=load_transport(env),
        aggregate_cache=given.aggregate_cache,
    )
