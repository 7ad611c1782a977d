"""The read-model tables: one definition per table, used for DDL, COPY and the known-at copies.

Every row is a pure function of one case's events (``projections.facts``), keyed by ``case_id``:
a case's rows are replaced whole whenever it gets a new event, so replaying any prefix of the
record twice can never duplicate a row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from psycopg import sql

from domain.protection import SKYDD_TYPES


@dataclass(frozen=True)
class Table:
    """A view table: name, ``(column, SQL type)`` pairs, primary key and extra indexes."""

    name: str
    columns: tuple[tuple[str, str], ...]
    key: tuple[str, ...]
    indexes: tuple[tuple[str, ...], ...] = ()
    #: Partial indexes: ``(name suffix, columns, predicate)``; a query uses one only when its
    #: condition contains the predicate's very text (``PROTECTION_CANDIDATES``).
    partial: tuple[tuple[str, tuple[str, ...], str], ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)

    def column_defs(self) -> sql.Composed:
        """``name type, ...`` of the columns, for a CREATE TABLE."""
        return sql.SQL(", ").join(
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(t)) for c, t in self.columns
        )

    def create(self, schema: str, *, temporary: bool = False) -> sql.Composed:
        cols = self.column_defs()
        key = sql.SQL(", ").join(map(sql.Identifier, self.key))
        if temporary:
            return sql.SQL("CREATE TEMP TABLE {} ({}, PRIMARY KEY ({})) ON COMMIT DROP").format(
                sql.Identifier(self.name), cols, key
            )
        return sql.SQL("CREATE TABLE IF NOT EXISTS {}.{} ({}, PRIMARY KEY ({}))").format(
            sql.Identifier(schema), sql.Identifier(self.name), cols, key
        )

    def index_names(self) -> set[str]:
        """The names of the extra indexes (``create_indexes``), to see whether they exist."""
        return {f"{self.name}_{'_'.join(cols)}" for cols in self.indexes} | {
            f"{self.name}_{suffix}" for suffix, _, _ in self.partial
        }

    def create_indexes(self, schema: str, *, shadow: str = "") -> list[sql.Composed]:
        """The extra indexes; with ``shadow``, on the table's copy so named, each index name
        ending in it too (``projections.shadow`` renames them when it swaps the copy in)."""
        plain = [("_".join(cols), cols, None) for cols in self.indexes]
        return [
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {}.{} ({}){}").format(
                sql.Identifier(f"{self.name}_{suffix}{shadow}"),
                sql.Identifier(schema),
                sql.Identifier(self.name + shadow),
                sql.SQL(", ").join(map(sql.Identifier, cols)),
                sql.SQL("") if where is None else sql.SQL(" WHERE ") + sql.SQL(where),
            )
            for suffix, cols, where in (*plain, *self.partial)
        ]

    def copy(self, schema: str | None, *, suffix: str = "", freeze: bool = False) -> sql.Composed:
        """COPY into this table, or into its copy named with ``suffix`` (a rebuild's shadow,
        ``projections.shadow``); ``freeze`` only into a table created in the same transaction."""
        name = sql.Identifier(self.name + suffix)
        target = name if schema is None else sql.SQL("{}.{}").format(sql.Identifier(schema), name)
        return sql.SQL("COPY {} ({}) FROM STDIN{}").format(
            target,
            sql.SQL(", ").join(map(sql.Identifier, self.column_names)),
            sql.SQL(" (FREEZE)") if freeze else sql.SQL(""),
        )


_CASE = (("case_id", "uuid NOT NULL"), ("kommun", "text NOT NULL"), ("case_ref", "text NOT NULL"))
_CHILD = (("kon", "text"), ("fodelsedatum", "date"))

#: A case's redacted events (with position and recorded_at) and its IVO pseudo-id: what the
#: incremental runner folds again when a case gets a new event, and the audit timeline. The events
#: carry free text (reasons, conclusions), so they are sealed with the store's cipher.
#: ``frister_until`` is the last legal date the case's frister rows were generated for when a
#: rule repeats with time (C4 quarters, D4 anniversaries, D10 years); NULL when none does.
#: ``event_types`` names every event type the case has (sorted, once each), in the clear: the
#: reports that fold events at read time fetch and decrypt only the cases that have a type they
#: look for (``projections.placed.case_events``), not every case of the kommun. Added after
#: release b0a7168, last and nullable, so its views are widened in place, not rebuilt
#: (``ReportsView.create_table``); NULL (a row written before) matches every filter.
#: ``first_day`` and ``last_day`` are the legal dates (Europe/Stockholm) of the case's earliest
#: and latest event, in the clear like ``event_types`` and added the same way (after
#: ``event_types``, nullable): a report about the events of a period reads only the cases whose
#: events reach into it (``extracts.aktualiseringar``); NULL matches every period.
#: The cases that may be protected (``projections.protection``): those with a protection event,
#: or whose types were not recorded (a row written before ``event_types``). A few per kommun; a
#: partial index on them lets a report find them without probing each of its case_refs (20,000
#: in a frister report at a million events). Built from ``domain.protection.SKYDD_TYPES``.
PROTECTION_CANDIDATES: Final = "event_types IS NULL OR event_types && '{{{}}}'::text[]".format(
    ",".join(sorted(SKYDD_TYPES))
)

CASES = Table(
    "report_cases",
    (
        *_CASE,
        ("ivo_id", "text"),
        ("last_position", "bigint NOT NULL"),
        ("frister_until", "date"),
        ("events", "bytea NOT NULL"),
        ("event_types", "text[]"),
        ("first_day", "date"),
        ("last_day", "date"),
    ),
    ("case_id",),
    # frister_until: the cases a frister report recomputes and those the runner extends are
    # found by a range on it (a few thousand of 160,000 cases at a million events: a sequential
    # scan of the table took 0.2 s per report)
    (("kommun", "case_ref"), ("frister_until",)),
    (("skydd", ("kommun",), PROTECTION_CANDIDATES),),
)

#: One row per version of a frist: ``[valid_from, valid_to)`` is the range of as-of dates on
#: which ``domain.frister.compute_frister`` over the events legally known by then gives this due
#: date (a förlängning starts a new version), ``valid_from`` also being the first date the frist
#: exists at all. ``valid_to`` NULL: still valid.
FRISTER = Table(
    "frister",
    (
        *_CASE,
        ("key", "text NOT NULL"),
        ("valid_from", "date NOT NULL"),
        ("valid_to", "date"),
        ("rule", "text NOT NULL"),
        ("name", "text NOT NULL"),
        ("subject", "text"),
        ("trigger_type", "text"),
        ("trigger_date", "date NOT NULL"),
        ("due", "date NOT NULL"),
        ("original_due", "date NOT NULL"),
        ("shifted_due", "date"),
        ("fulfilled_date", "date"),
        ("law", "text NOT NULL"),
        ("paragraph", "text NOT NULL"),
        ("blocks_closing", "boolean NOT NULL"),
        ("enhet", "text"),
        ("handlaggare", "text"),
    ),
    ("case_id", "key", "valid_from"),
    # the frister report asks for the frister open on a day: ``fulfilled_date IS NULL OR
    # fulfilled_date > day``, two ranges of this index (at a million events 27,000 rows of
    # kommun 1280's 194,000 versions, read instead of all of them: 230 -> 31 ms)
    (("kommun", "valid_from"), ("kommun", "fulfilled_date")),
)

#: Beslut (and LVU omhändertaganden) with verkställighet, avbrott and EVB reports in ``detail``
#: (dates and codes only); the EVB reasons (``evb_skal_angivet``: free text) are in ``sealed``,
#: encrypted with the store's cipher. The free-text avslut reason is not kept (no report uses it).
BESLUT = Table(
    "beslut",
    (
        *_CASE,
        *_CHILD,
        ("beslut_id", "text NOT NULL"),
        ("fattat", "date NOT NULL"),
        ("lagrum", "text NOT NULL"),
        ("beslutstyp", "text NOT NULL"),
        ("insats", "text"),
        ("gynnande", "boolean NOT NULL"),
        ("delegat_id", "text"),
        ("delegat_roll", "text"),
        ("belopp_per_dygn", "double precision"),
        ("verkstalld", "date"),
        ("avslutat", "date"),
        ("enhet", "text"),
        ("ivo_id", "text"),
        ("evb_from", "date"),
        ("detail", "text NOT NULL"),
        ("sealed", "bytea"),
    ),
    ("case_id", "beslut_id"),
    (("kommun", "fattat"), ("kommun", "evb_from")),
)

#: ``hord_datum``/``barnenkat_datum``: the first date the child was heard / offered the barnenkät
#: for this utredning, so a half-year report counts only what had happened by its last day.
#: ``ej_hord_skal`` (free text, sealed) is the recorded reason the child was not heard.
UTREDNINGAR = Table(
    "utredningar",
    (
        *_CASE,
        *_CHILD,
        ("utredning_id", "text NOT NULL"),
        ("inledd", "date NOT NULL"),
        ("original_due", "date NOT NULL"),
        ("due", "date NOT NULL"),
        ("forlangd", "boolean NOT NULL"),
        ("avslutad", "date"),
        ("utfall", "text"),
        ("hord_datum", "date"),
        ("ej_hord_datum", "date"),
        ("ej_hord_skal", "bytea"),
        ("barnenkat_datum", "date"),
    ),
    ("case_id", "utredning_id"),
    (("kommun", "avslutad"),),
)

ANMALNINGAR = Table(
    "anmalningar",
    (
        *_CASE,
        *_CHILD,
        ("anmalan_id", "text NOT NULL"),
        ("mottagen", "date NOT NULL"),
        ("skyddsbedomning", "date"),
        ("behover_forhandsbedomning", "boolean NOT NULL"),
        ("forhandsbedomning", "date"),
        ("forhandsbedomning_beslut", "text"),
    ),
    ("case_id", "anmalan_id"),
    (("kommun", "mottagen"),),
)

UPPFOLJNINGAR = Table(
    "insats_uppfoljningar",
    (
        *_CASE,
        *_CHILD,
        ("seq", "integer NOT NULL"),
        ("beslut_id", "text NOT NULL"),
        ("datum", "date NOT NULL"),
        ("barnet_hort", "boolean NOT NULL"),
    ),
    ("case_id", "seq"),
    (("kommun", "datum"),),
)

#: One row per decision judged against the delegationsordning (the envelope's ``delegation``,
#: ``domain.delegation_record``), and per decision stored before judgements that names its
#: delegat (``utfall`` NULL): the delegationsbeslut list (§5.7) and the decisions taken without
#: delegation. ``kommun_config`` and ``ordning_*`` name what judged it; ``skal`` is barnflow's
#: own message (no case content).
DELEGATIONSBESLUT = Table(
    "delegationsbeslut",
    (
        *_CASE,
        ("position", "bigint NOT NULL"),
        ("datum", "date NOT NULL"),
        ("handelse", "text NOT NULL"),
        ("beslutstyp", "text NOT NULL"),
        ("lagrum", "text"),
        ("insats", "text"),
        ("gynnande", "boolean"),
        ("beslut_id", "text"),
        ("delegat_id", "text"),
        ("delegat_roll", "text"),
        ("stege", "text"),
        ("rang", "integer"),
        ("utfall", "text"),
        ("punkt", "text"),
        ("kravs", "text"),
        ("ordning_version", "text"),
        ("ordning_giltig_fran", "date"),
        ("kommun_config", "text"),
        ("skal", "text"),
        ("ordforandebeslut", "boolean NOT NULL"),
        ("anmalan", "boolean NOT NULL"),
    ),
    ("case_id", "position"),
    (("kommun", "datum"),),
)

#: One row per överklagande (docs/domain.md §5.9): dates of each step, so the report as of any
#: day reads which were pending then. ``delgiven``/``overklagandetid_slut``: the delgivning the
#: appellant's three weeks run from and their last day (``domain.appeals``); ``forvaltningsbesvar``
#: whether the beslut is one SoL 35:1 lets the party appeal (NULL: the lagrum does not say).
#: The appellant (``part``) is not kept: no report shows who appealed.
OVERKLAGANDEN = Table(
    "overklaganden",
    (
        *_CASE,
        *_CHILD,
        ("overklagande_id", "text NOT NULL"),
        ("beslut_id", "text NOT NULL"),
        ("beslutsdatum", "date"),
        ("lagrum", "text"),
        ("forvaltningsbesvar", "boolean"),
        ("delgiven", "date"),
        ("overklagandetid_slut", "date"),
        ("mottaget", "date NOT NULL"),
        ("rattidsprovad", "date"),
        ("i_tid", "boolean"),
        ("undantag", "text"),
        ("omprovad", "date"),
        ("omprovning", "text"),
        ("overlamnat", "date"),
        ("inhibition", "date"),
        ("avgjort", "date"),
        ("utfall", "text"),
        ("aterkallat", "date"),
        ("beslut_avslutat", "date"),
        ("enhet", "text"),
    ),
    ("case_id", "overklagande_id"),
    (("kommun", "mottaget"),),
)

#: The rows of the reports that used to fold ``report_cases.events`` at read time (decrypting
#: and parsing every case that could give a row: 0.5-1.1 s each at a million events), folded
#: here when a case's events arrive instead, by the same functions. Each is keyed by the
#: case's ``kommun`` and ``case_ref`` as ``report_cases`` has them (the case's first event), so
#: a report selects exactly the cases it read before. No free text: ids, codes, dates, amounts.
#:
#: ``placeringar``: every placement of ``domain.placement.placements`` (placerade-barn,
#: placeringskostnader); ``stays`` is the JSON list of its stays ``[start, hem_id, belopp, end]``.
PLACERINGAR = Table(
    "placeringar",
    (
        *_CASE,
        ("seq", "integer NOT NULL"),
        ("key", "text NOT NULL"),
        ("form", "text NOT NULL"),
        ("typ", "text NOT NULL"),
        ("start", "date NOT NULL"),
        ("slut", "date"),
        *_CHILD,
        ("enhet", "text"),
        ("stays", "text NOT NULL"),
    ),
    ("case_id", "seq"),
    (("kommun", "start"),),
)

#: ``arsstatistik_poster``: every run of ``domain.returns.collect.case_runs`` (an insats, an LVU
#: placement or LVU care, whatever the year); the report cuts them to its year
#: (``records_in_year``). ``moves``: the JSON list of the placering_flyttad days.
ARSSTATISTIK_POSTER = Table(
    "arsstatistik_poster",
    (
        *_CASE,
        ("seq", "integer NOT NULL"),
        ("ivo_id", "text"),
        ("post", "text NOT NULL"),
        *_CHILD,
        ("ensamkommande", "boolean"),
        ("insatstyp", "text"),
        ("lagrum_form", "text"),
        ("lagrum", "text"),
        ("beslut_id", "text"),
        ("beslutsdatum", "date"),
        ("start", "date"),
        ("slut", "date"),
        ("placeringsform", "text"),
        ("moves", "text NOT NULL"),
        ("vistelsekommun", "text"),
        ("lvu_beslut", "date"),
    ),
    ("case_id", "seq"),
    (("kommun", "start"),),
)

#: ``aktualiseringar``: every anmälan, ansökan and utredning on the nämnd's own initiative, with
#: the child as known on its day and the anmälan's förhandsbedömningar (JSON ``[day, beslut]``,
#: in the order they count: the report takes the last one by its year's end).
AKTUALISERINGAR = Table(
    "aktualiseringar",
    (
        *_CASE,
        ("seq", "integer NOT NULL"),
        ("typ", "text NOT NULL"),
        ("anmalan_id", "text"),
        ("datum", "date NOT NULL"),
        *_CHILD,
        ("anmalare_kategori", "text"),
        ("beslut", "text NOT NULL"),
    ),
    ("case_id", "seq"),
    (("kommun", "datum"),),
)

#: ``kontinuitet``: each SoL placement's facts (``projections.placed.kontinuitet_facts``) as
#: the case's events legally known on ``[valid_from, valid_to)`` give them (like ``frister``:
#: a new event day may change them; ``valid_to`` NULL: still so). The report adds what moves with
#: its as-of date (placement years, age band).
KONTINUITET = Table(
    "kontinuitet",
    (
        *_CASE,
        ("beslut_id", "text NOT NULL"),
        ("valid_from", "date NOT NULL"),
        ("valid_to", "date"),
        ("insats", "text"),
        ("placerad", "date NOT NULL"),
        ("avslutad", "date"),
        ("socialsekreterare", "text"),
        ("byten", "integer NOT NULL"),
        *_CHILD,
        ("enhet", "text"),
    ),
    ("case_id", "beslut_id", "valid_from"),
    (("kommun", "valid_from"),),
)

#: The kommun configuration versions (``domain.kommun``) the views were computed with, one row per
#: configured kommun: readers compute with the same versions (a recomputed frist, a target), and
#: a writer in force with other versions rebuilds the views first (``ReportsView.follow_versions``).
VIEW_CONFIG = Table(
    "report_kommun_config", (("kommun", "text NOT NULL"), ("version", "text NOT NULL")), ("kommun",)
)

#: The tables whose rows ``projections.facts.case_rows`` computes, in that tuple's order.
ROW_TABLES = (
    FRISTER,
    BESLUT,
    UTREDNINGAR,
    ANMALNINGAR,
    UPPFOLJNINGAR,
    DELEGATIONSBESLUT,
    OVERKLAGANDEN,
    PLACERINGAR,
    ARSSTATISTIK_POSTER,
    AKTUALISERINGAR,
    KONTINUITET,
)
ALL_TABLES = (CASES, *ROW_TABLES)
