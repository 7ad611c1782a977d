"""Reading the environment with pydantic-settings, and its first problem as one line.

Every barnflow settings model derives from ``EnvironmentModel``: each field names its variable
(``validation_alias``, matched case-sensitively), pydantic validates the value, and
``from_env`` turns the first problem into ``SettingsError`` with ONE line naming the variable, so
a command stops before any server is started or any data is touched (``barnflow: NAME: …``).

Why not pydantic's own messages: an operator reads "BARNFLOW_TEMPORAL_ADDRESS: expected
host:port, got 'x'", not a multi-line ``ValidationError``. A field says what it expects in its
``description`` (the input is appended, except for fields with ``repr=False``: keys are never
echoed); a validator that raises ``ValueError`` says it in its message.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Self

from pydantic import BeforeValidator, ValidationError
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or malformed; the message names it and says what is expected."""


def _default_if_empty(value: object) -> object:
    if value == "":
        raise PydanticUseDefault
    return value


#: ``NAME=`` (set but empty) means "not set": the field's default applies.
EmptyIsUnset = BeforeValidator(_default_if_empty)


class _Environ(EnvSettingsSource):
    """pydantic-settings' environment source over a given mapping instead of ``os.environ``:
    tests pass the whole environment of a process they describe."""

    def __init__(self, settings_cls: type[BaseSettings], environ: Mapping[str, str]) -> None:
        self._environ = environ
        super().__init__(settings_cls, case_sensitive=True)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        return dict(self._environ)


class EnvironmentModel(BaseSettings):
    """Base of barnflow's settings models, read by ``from_env``: the environment is their only
    source (no ``.env`` file or secrets directory configures a process behind the operator's
    back), values are frozen, defaults validated like given values, other variables ignored."""

    model_config = SettingsConfigDict(
        case_sensitive=True, frozen=True, validate_default=True, extra="ignore"
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """The model read from ``env`` (default: this process's environment), or
        ``SettingsError`` naming the first bad variable (fields are checked in their order)."""
        environ = os.environ if env is None else env
        try:
            return cls(_build_sources=((_Environ(cls, environ),), {}))
        except ValidationError as exc:
            raise SettingsError(cls._one_line(exc.errors()[0])) from exc

    @classmethod
    def _one_line(cls, error: Any) -> str:
        """``NAME[: index]: what is expected[, got 'input']`` for one pydantic error."""
        loc: tuple[str | int, ...] = error["loc"]
        cause = (error.get("ctx") or {}).get("error")
        if not loc:  # a check across fields: its message names the variable itself
            return str(cause if cause is not None else error["msg"])
        name = str(loc[0]) + "".join(f"[{part}]" for part in loc[1:])
        if error["type"] == "value_error" and cause is not None:
            return f"{name}: {cause}"
        field = next((f for f in cls.model_fields.values() if f.validation_alias == loc[0]), None)
        expected = field.description if field is not None and field.description else error["msg"]
        if field is not None and not field.repr:
            return f"{name}: {expected}"
        return f"{name}: {expected}, got {error['input']!r}"
