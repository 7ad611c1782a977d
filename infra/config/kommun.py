"""Kommun configuration files: one TOML file per kommun (policy, local frister, delegationsordning),
validated with pydantic, loaded once at start, each version identified by its content.

Why pydantic and strict models: a typo in a kommun file must never silently drop a rule or change
a frist. Every model forbids unknown keys and refuses coercion (``"14"`` is not a number, a
boolean is not an amount, a datetime is not a date), and the first error becomes one line naming
the key path and the file, e.g. ``delegationsordning.regler[3].lagsta_delegat: unknown role
'chef' (expected one of …) (in /etc/barnflow/kommun/1280.toml)``.

A valid file becomes a JSON document (``model_dump``, every default filled in) and the pure domain
objects built from it (``domain.kommun.KommunConfig``), whose version id is a digest of that
document. Formats: docs/rules.md ("Kommun configuration file") and docs/delegationsordning.md;
example: ``config/kommun.sample.toml``.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from domain.delegation import (
    DEFAULT_LADDER,
    ORDFORANDE,
    POLITISK,
    RoleLadder,
    ladder_from_document,
    may_be_urgent,
    normalize_lagrum,
    normalize_title,
)
from domain.events import INSATSTYPER
from domain.kommun import KommunConfig, kommun_config_from_document
from domain.protection import DEFAULT_ROLES as DEFAULT_SKYDD_ROLES
from domain.protection import NEVER as NEVER_PROTECTED
from domain.rules import DEFAULT_POLICY, NO_SONDAGSREGEL, RULES_BY_ID, KommunPolicy

__all__ = [
    "KommunConfigError",
    "KommunConfigs",
    "KommunFile",
    "LoadedConfig",
    "known",
    "load_kommun_dir",
    "load_kommun_file",
    "parse_kommun_config",
    "remember",
]


class KommunConfigError(ValueError):
    """A kommun file is invalid: ``path`` is the key path, ``source`` the file (one line)."""

    def __init__(self, path: str, message: str, source: str) -> None:
        super().__init__(f"{path}: {message} (in {source})")
        self.path = path
        self.message = message
        self.source = source


class _Invalid(ValueError):
    """A check inside a validator; ``path`` continues the key path below the validated value."""

    def __init__(self, message: str, path: tuple[str | int, ...] = ()) -> None:
        super().__init__(message)
        self.path = path


# ---------------------------------------------------------------------------- value checks
def _text(value: str) -> str:
    text = value.strip()
    if not text:
        raise _Invalid("must not be empty")
    return text


def _ladder_title(value: str, ladder: RoleLadder, path: tuple[str | int, ...]) -> None:
    """``value`` must be a title on one of the kommun's ladders (not an ordförande title)."""
    if ladder.is_ordforande(value):
        raise _Invalid(
            f"{value} is not a ladder level; set ordforande = true on the rule instead", path
        )
    if ladder.level(value) is None:
        raise _Invalid(f"unknown role {value!r} (expected one of {', '.join(ladder.ladder)})", path)


def _kommunkod(value: str) -> str:
    if not (len(value) == 4 and value.isdigit()):
        raise _Invalid(f'expected a 4-digit kommunkod as a string, e.g. "1280", got {value!r}')
    return value


def _hhmm(value: str) -> str:
    parts = value.split(":")
    if (
        len(parts) != 2
        or not all(p.isdigit() and len(p) == 2 for p in parts)
        or int(parts[0]) > 23
        or int(parts[1]) > 59
    ):
        raise _Invalid(f'must be a time "HH:MM", got {value!r}')
    return value


Text = Annotated[str, AfterValidator(_text)]
Kommunkod = Annotated[str, AfterValidator(_kommunkod)]


class _Model(BaseModel):
    """Strict: unknown keys are errors and no value is coerced into another type."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    #: Keys added after version ids were in use: left out of the document while unset, so a file
    #: that does not use them keeps its version id (the id follows the content).
    omit_when_none: ClassVar[frozenset[str]] = frozenset()

    @model_serializer(mode="wrap")
    def _omit_unset(self, handler: SerializerFunctionWrapHandler) -> Any:
        out = handler(self)
        if isinstance(out, dict):
            for key in self.omit_when_none:
                if out.get(key) is None:
                    out.pop(key, None)
        return out


# ---------------------------------------------------------------------------- roles
class RollerModel(_Model):
    """``[roller]``: the kommun's titles, each ladder lowest first (docs/delegationsordning.md)."""

    tjansteman: list[Text]
    politiska: list[Text]
    ordforande: list[Text] = Field(default_factory=lambda: [ORDFORANDE])

    @model_validator(mode="after")
    def _distinct(self) -> Self:
        seen: dict[str, str] = {}
        for key in ("tjansteman", "politiska", "ordforande"):
            titles: list[str] = getattr(self, key)
            if not titles:
                raise _Invalid("must name at least one title", (key,))
            for i, title in enumerate(titles):
                norm = normalize_title(title)
                if norm in seen:
                    raise _Invalid(f"duplicate title {title!r} (also in {seen[norm]})", (key, i))
                seen[norm] = key
        return self

    def ladder(self) -> RoleLadder:
        return ladder_from_document(self.model_dump())


class NamndModel(_Model):
    """``[namnd]``: the nämnd's calendar of sammanträden (docs/delegationsordning.md)."""

    sammantraden: list[date] = Field(default_factory=list)

    @field_validator("sammantraden")
    @classmethod
    def _increasing(cls, value: list[date]) -> list[date]:
        for i in range(1, len(value)):
            if value[i] <= value[i - 1]:
                raise _Invalid("dates must be in increasing order, each once", (i,))
        return value


# ---------------------------------------------------------------------------- delegationsordning
class Threshold(_Model):
    """``[[delegationsordning.regler.beloppsgranser]]``: above the amount, at least the role."""

    over_kr_per_dygn: float
    lagsta_delegat: Text

    @field_validator("over_kr_per_dygn")
    @classmethod
    def _amount(cls, value: float) -> float:
        if not math.isfinite(value) or value < 0:
            raise _Invalid("must be a non-negative number")
        return value


class DelegationRuleModel(_Model):
    """``[[delegationsordning.regler]]``: one point of the nämnd's delegationsordning."""

    id: Text
    beslutstyp: Text
    lagrum: Text
    lagsta_delegat: Text
    beloppsgranser: list[Threshold] = Field(default_factory=list)
    ordforande: bool = False
    anmalan_till_namnden: bool = True
    beskrivning: str = ""

    @field_validator("beskrivning")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if "beloppsgranser" in self.model_fields_set and not self.beloppsgranser:
            raise _Invalid(
                "must not be empty (omit the key for no thresholds)", ("beloppsgranser",)
            )
        previous_amount = -math.inf
        for i, step in enumerate(self.beloppsgranser):
            if step.over_kr_per_dygn <= previous_amount:
                raise _Invalid(
                    "thresholds must be in increasing order",
                    ("beloppsgranser", i, "over_kr_per_dygn"),
                )
            previous_amount = step.over_kr_per_dygn
        return self

    def check_titles(self, ladder: RoleLadder, path: tuple[str | int, ...]) -> None:
        """The roles against the kommun's ladder (they are titles the kommun defines)."""
        _ladder_title(self.lagsta_delegat, ladder, (*path, "lagsta_delegat"))
        previous = self.lagsta_delegat
        for i, step in enumerate(self.beloppsgranser):
            where = (*path, "beloppsgranser", i, "lagsta_delegat")
            _ladder_title(step.lagsta_delegat, ladder, where)
            if (ladder.level(step.lagsta_delegat) or 0) <= (ladder.level(previous) or 0):
                raise _Invalid(
                    f"{step.lagsta_delegat!r} must be above the level below the threshold "
                    f"({previous!r})",
                    where,
                )
            previous = step.lagsta_delegat
        position = ladder.position(self.lagsta_delegat)
        if self.ordforande and (position is None or position.stege != POLITISK):
            raise _Invalid(
                "the ordförande's urgent decision right only complements a political body; "
                f"lagsta_delegat is {self.lagsta_delegat!r}",
                (*path, "ordforande"),
            )
        if self.ordforande and not may_be_urgent(self.lagrum):
            raise _Invalid(
                "only LVU decisions may be urgent (LVU 1990:52 or lag 2026:1600), "
                f"lagrum is {self.lagrum!r}",
                (*path, "ordforande"),
            )


class DelegationsordningModel(_Model):
    """``[delegationsordning]`` (or one ``[[delegationsordning]]`` of several): who may take
    which decision, from ``giltig_fran`` (docs/delegationsordning.md)."""

    omit_when_none: ClassVar[frozenset[str]] = frozenset({"roller"})
    namn: str = ""
    version: str = ""
    giltig_fran: date | None = None
    #: This version's own titles, when they differ from the kommun's ``[roller]``.
    roller: RollerModel | None = None
    regler: list[DelegationRuleModel]

    def check_titles(self, ladder: RoleLadder, path: tuple[str | int, ...]) -> None:
        own = ladder if self.roller is None else self.roller.ladder()
        for i, rule in enumerate(self.regler):
            rule.check_titles(own, (*path, "regler", i))

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if not self.regler:
            raise _Invalid("must contain at least one rule", ("regler",))
        ids: dict[str, int] = {}
        keys: dict[tuple[str, str], int] = {}
        for i, rule in enumerate(self.regler):
            if rule.id in ids:
                raise _Invalid(
                    f"duplicate id {rule.id!r} (also regler[{ids[rule.id]}])", ("regler", i, "id")
                )
            key = (rule.beslutstyp, normalize_lagrum(rule.lagrum))
            if key in keys:
                raise _Invalid(
                    f"duplicate rule for beslutstyp {rule.beslutstyp!r} and lagrum "
                    f"{rule.lagrum!r} (also regler[{keys[key]}])",
                    ("regler", i),
                )
            ids[rule.id], keys[key] = i, i
        return self


def _ordning_shape(value: Any) -> str:
    return "list" if isinstance(value, list) else "table"


#: ``[delegationsordning]`` (one table) or ``[[delegationsordning]]`` (several versions). The
#: shape chooses the model, so an error names the key the file has (``_path`` drops the tag).
Ordningar = Annotated[
    Annotated[DelegationsordningModel, Tag("table")]
    | Annotated[list[DelegationsordningModel], Tag("list")],
    Discriminator(_ordning_shape),
]
_SHAPE_TAGS = {"table", "list"}


# ---------------------------------------------------------------------------- policy
class Klagomal(_Model):
    """``[klagomal]``: the local rule K1."""

    dagar: int = Field(default=14, ge=1, le=365)


class Sondagsregel(_Model):
    """``[sondagsregel]``: rules that show a söndagsregel date (``shifted_due``)."""

    regler: list[str] = Field(default_factory=list)

    @field_validator("regler")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        for i, rid in enumerate(value):
            if rid not in RULES_BY_ID:
                raise _Invalid(f"unknown rule id {rid!r}", (i,))
            if rid in NO_SONDAGSREGEL:
                raise _Invalid(
                    f"{rid} may not use söndagsregeln (a late {rid} ends the decision)", (i,)
                )
        return sorted(set(value))  # a set: order and repetition do not change the version


class PolicyChoices(_Model):
    """``[policy]``: the kommun's choices where the statute leaves one (docs/law.md §5)."""

    a1_nasta_dag_efter: Annotated[str, AfterValidator(_hhmm)] | None = None
    d3_start: Literal["beslut", "verkstallighet"] = "beslut"
    uppfoljning_gammal_sol_manader: int = Field(default=2, ge=1, le=6)
    d10_per_arende: bool = False
    a3_begaran_antas: bool = False
    nasta_sammantrade_dagar: int = Field(default=30, ge=1, le=90)
    offentligt_bitrade_dagar: int = Field(default=1, ge=0, le=30)
    overklagande_overlamnande_dagar: int = Field(default=7, ge=1, le=30)
    # the placed child (issue #15 B; docs/law.md §5): left out of the document while unset, so
    # a file that does not use them keeps its version id
    omit_when_none: ClassVar[frozenset[str]] = frozenset(
        {
            "placering_krav_fran",
            "hem_id_krav_fran",
            "placering_plan_dagar",
            "placering_kartlaggning_dagar",
            "besok_tat_manader",
            "besok_tat_intervall_manader",
            "besok_senare_intervall_manader",
            "alder18_varning_manader",
            "avvikning_lvu_bedomning_dagar",
            "lex_sarah_utredning_start_dagar",
            "lex_sarah_utredning_dagar",
            "lex_sarah_ivo_dagar",
        }
    )
    placering_krav_fran: date | None = None
    hem_id_krav_fran: date | None = None
    placering_plan_dagar: Annotated[int, Field(ge=0, le=90)] | None = None
    placering_kartlaggning_dagar: Annotated[int, Field(ge=1, le=365)] | None = None
    besok_tat_manader: Annotated[int, Field(ge=0, le=36)] | None = None
    besok_tat_intervall_manader: Annotated[int, Field(ge=1, le=12)] | None = None
    besok_senare_intervall_manader: Annotated[int, Field(ge=1, le=12)] | None = None
    alder18_varning_manader: Annotated[int, Field(ge=1, le=24)] | None = None
    avvikning_lvu_bedomning_dagar: Annotated[int, Field(ge=0, le=14)] | None = None
    # lex Sarah (issue 17 item 4; docs/law.md §14): LS1, LS2, LS3
    lex_sarah_utredning_start_dagar: Annotated[int, Field(ge=0, le=14)] | None = None
    lex_sarah_utredning_dagar: Annotated[int, Field(ge=1, le=180)] | None = None
    lex_sarah_ivo_dagar: Annotated[int, Field(ge=0, le=60)] | None = None


class SkyddModel(_Model):
    """``[skydd]``: the roles that read a case with skyddade personuppgifter (docs/security.md
    "Protected identities"; POL-SKYDD-ATKOMST). An operator never does."""

    roller: list[Text]

    @field_validator("roller")
    @classmethod
    def _roles(cls, value: list[str]) -> list[str]:
        if not value:
            raise _Invalid("must name at least one role")
        for i, role in enumerate(value):
            if role in NEVER_PROTECTED:
                raise _Invalid(f"{role} never reads a protected case's content", (i,))
        return sorted(set(value))  # a set: order and repetition do not change the version


class KommunFile(_Model):
    """One kommun's configuration file (``BARNFLOW_KOMMUN_DIR/*.toml``)."""

    omit_when_none: ClassVar[frozenset[str]] = frozenset({"roller", "namnd", "skydd"})
    kommun: Kommunkod
    namn: str = ""
    klagomal: Klagomal = Field(default_factory=Klagomal)
    verkstallighet: dict[str, Annotated[int, Field(ge=0, le=3650)]] = Field(default_factory=dict)
    sondagsregel: Sondagsregel = Field(default_factory=Sondagsregel)
    policy: PolicyChoices = Field(default_factory=PolicyChoices)
    #: The kommun's titles (``None``: the documented codes, ``domain.delegation.DEFAULT_LADDER``).
    roller: RollerModel | None = None
    #: The nämnd's sammanträden (``None``: no calendar; policy.nasta_sammantrade_dagar applies).
    namnd: NamndModel | None = None
    #: One ordning, or several versions of it, each from its ``giltig_fran``.
    delegationsordning: Ordningar | None = None
    #: Who reads protected cases (``None``: domain.protection.DEFAULT_ROLES; no version change).
    skydd: SkyddModel | None = None

    @model_validator(mode="after")
    def _ordningar(self) -> Self:
        ladder = DEFAULT_LADDER if self.roller is None else self.roller.ladder()
        ordning = self.delegationsordning
        if ordning is None:
            return self
        if isinstance(ordning, DelegationsordningModel):
            ordning.check_titles(ladder, ("delegationsordning",))
            return self
        if not ordning:
            raise _Invalid("must contain at least one ordning", ("delegationsordning",))
        previous: date | None = None
        for i, version in enumerate(ordning):
            path: tuple[str | int, ...] = ("delegationsordning", i)
            if version.giltig_fran is None:
                raise _Invalid(
                    "required when the kommun lists several ordningar", (*path, "giltig_fran")
                )
            if previous is not None and version.giltig_fran <= previous:
                raise _Invalid(
                    f"must be after the previous ordning's giltig_fran ({previous})",
                    (*path, "giltig_fran"),
                )
            previous = version.giltig_fran
            version.check_titles(ladder, path)
        return self

    @field_validator("verkstallighet")
    @classmethod
    def _insatstyper(cls, value: dict[str, int]) -> dict[str, int]:
        for key in value:
            if key not in INSATSTYPER:
                raise _Invalid(
                    f"unknown insatstyp (expected one of {', '.join(INSATSTYPER)})", (key,)
                )
        return value


# ---------------------------------------------------------------------------- errors
def _path(loc: tuple[str | int, ...]) -> str:
    out = ""
    for i, part in enumerate(loc):
        if part in _SHAPE_TAGS and i > 0 and loc[i - 1] == "delegationsordning":
            continue  # the union's tag (``Ordningar``), not a key of the file
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "<file>"


def _first_error(exc: ValidationError, source: str) -> KommunConfigError:
    """The first error of a validation as one line: key path, what is wrong, the file."""
    err = exc.errors()[0]
    loc: tuple[str | int, ...] = tuple(err["loc"])
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, _Invalid):
        loc, message = loc + cause.path, str(cause)
    elif isinstance(cause, ValueError):
        message = str(cause)
    elif err["type"] == "extra_forbidden":
        message = "unknown key"
    elif err["type"] == "missing":
        message = "missing required key"
    else:
        got = repr(err.get("input"))
        message = f"{err['msg']}, got {got if len(got) <= 60 else got[:57] + '...'}"
    return KommunConfigError(_path(loc), message, source)


# ---------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class LoadedConfig:
    """A validated kommun file: its document (what is stored and digested), the domain objects
    and the file it came from."""

    document: dict[str, Any]
    config: KommunConfig
    source: str

    @property
    def kommun(self) -> str:
        return self.config.kommun

    @property
    def version(self) -> str:
        return self.config.version


#: Every configuration this process has built, by version id. Safe to keep for the process's
#: life: a version id names one content (``domain.kommun.config_version``).
_KNOWN: dict[str, KommunConfig] = {}


def remember(config: KommunConfig) -> KommunConfig:
    """Keep ``config`` for ``known`` (content-addressed: never stale)."""
    _KNOWN.setdefault(config.version, config)
    return config


def known(version: str) -> KommunConfig | None:
    """A configuration this process has already built, by version id."""
    return _KNOWN.get(version)


def parse_kommun_config(raw: Mapping[str, Any], source: str) -> LoadedConfig:
    """Validate a decoded kommun file (``source`` names it in the error)."""
    try:
        model = KommunFile.model_validate(raw)
    except ValidationError as exc:
        raise _first_error(exc, source) from None
    document = model.model_dump(mode="json")
    config = remember(kommun_config_from_document(document, source=source))
    return LoadedConfig(document, config, source)


def load_kommun_file(path: str | Path) -> LoadedConfig:
    """Read and validate one kommun file."""
    file = Path(path)
    try:
        with file.open("rb") as handle:
            raw = tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise KommunConfigError("<file>", f"not valid TOML: {exc}", str(file)) from None
    except OSError as exc:
        raise KommunConfigError("<file>", exc.strerror or str(exc), str(file)) from None
    return parse_kommun_config(raw, str(file))


@dataclass(frozen=True)
class KommunConfigs:
    """The kommun configurations in force in this process (loaded once at start), by kommun.

    A kommun without a file has no version: its frister use the documented defaults
    (``domain.rules.DEFAULT_POLICY``) and its beslut are not judged against a delegationsordning.
    """

    by_kommun: Mapping[str, LoadedConfig] = field(default_factory=dict)

    def __iter__(self) -> Iterator[LoadedConfig]:
        return iter(self.by_kommun.values())

    def __len__(self) -> int:
        return len(self.by_kommun)

    def get(self, kommun: str) -> LoadedConfig | None:
        return self.by_kommun.get(kommun)

    def version(self, kommun: str) -> str | None:
        """The version id in force for ``kommun`` (``None``: no file, the defaults apply)."""
        loaded = self.by_kommun.get(kommun)
        return None if loaded is None else loaded.version

    def policy(self, kommun: str) -> KommunPolicy:
        """The policy in force for ``kommun`` (the defaults without a file)."""
        loaded = self.by_kommun.get(kommun)
        return DEFAULT_POLICY if loaded is None else loaded.config.policy

    def skydd_roles(self, kommun: str) -> tuple[str, ...]:
        """The roles that read ``kommun``'s protected cases (the default without a file)."""
        loaded = self.by_kommun.get(kommun)
        return DEFAULT_SKYDD_ROLES if loaded is None else loaded.config.skydd_roller

    def versions(self) -> dict[str, str]:
        """kommun → version id of every configured kommun."""
        return {k: c.version for k, c in sorted(self.by_kommun.items())}


def load_kommun_dir(directory: Path) -> KommunConfigs:
    """Every ``*.toml`` in ``directory``, validated, keyed by kommun (one file per kommun)."""
    if not directory.is_dir():
        raise KommunConfigError("<directory>", "not a directory", str(directory))
    found: dict[str, LoadedConfig] = {}
    for path in sorted(directory.glob("*.toml")):
        loaded = load_kommun_file(path)
        other = found.get(loaded.kommun)
        if other is not None:
            raise KommunConfigError(
                "kommun", f"kommun {loaded.kommun} is configured in {other.source} too", str(path)
            )
        found[loaded.kommun] = loaded
    if not found:
        raise KommunConfigError("<directory>", "no *.toml kommun file", str(directory))
    return KommunConfigs(found)
