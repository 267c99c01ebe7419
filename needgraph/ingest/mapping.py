"""The ingest mapping: which columns of which files feed which record kinds, validated by pydantic.

A mapping is a YAML document (``docs/ingest.md``; ``mappings/ibm_telco.yaml`` is an example).
This module holds the models and the structural checks that need no ontology: unknown members,
a column used twice in conflicting roles, and columns that may never be inputs
(``never_inputs``). Checks against the ontology live in :mod:`needgraph.ingest.mapping_check`,
reading YAML with line numbers in :mod:`needgraph.ingest.mapping_io`.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from pathlib import PurePath
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Kind: TypeAlias = Literal["tags", "text", "strategies", "labels"]
KINDS: tuple[Kind, ...] = ("tags", "text", "strategies", "labels")
Outcome: TypeAlias = Literal["offered", "accepted", "declined"]
FileFormat: TypeAlias = Literal["csv", "parquet", "jsonl"]
BadValues: TypeAlias = Literal["row", "cell"]

_STRICT = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
DELIMITERS = (",", ";", "\t", "|")


def _listify(value: Any) -> Any:
    """Accept one mapping where a list of them is expected."""
    return [value] if isinstance(value, dict) else value


class ColumnRef(BaseModel):
    """A value read from a column (where the default is a constant), e.g. ``{column: channel}``."""

    model_config = _STRICT
    column: str


ConstOrColumn: TypeAlias = str | ColumnRef
"""A constant (``survey``) or a column reference (``{column: channel}``)."""


class TagColumn(BaseModel):
    """A wide-format tag column: the tag it feeds and an optional raw-value map.

    Attributes:
        tag: Tag id in the ontology.
        values: Raw value -> value handed to the tag's bins; ``null`` means "missing".
    """

    model_config = _STRICT
    tag: str
    values: dict[str, str | None] = Field(default_factory=dict)


class LongTags(BaseModel):
    """Long-format tags: one row per (customer, tag, value[, time]).

    Attributes:
        tag: Column holding the tag id (or a name listed in ``tags``).
        value: Column holding the raw value.
        time: Column holding the observation time (optional).
        tags: Raw tag name -> tag id, for files that do not use the ontology's ids.
    """

    model_config = _STRICT
    tag: str = "tag"
    value: str = "value"
    time: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class TagsSpec(BaseModel):
    """Tags of a file: wide (``columns``) or long (``long``), not both.

    Attributes:
        columns: Column -> tag id, or -> ``{tag, values}``.
        long: The long layout.
        time: Column with the observation time of wide tags (optional).
    """

    model_config = _STRICT
    columns: dict[str, str | TagColumn] = Field(default_factory=dict)
    long: LongTags | None = None
    time: str | None = None

    @model_validator(mode="after")
    def _one_layout(self) -> TagsSpec:
        if bool(self.columns) == (self.long is not None):
            raise ValueError("give either `columns` (wide) or `long`, exactly one of them")
        return self

    def wide(self) -> dict[str, TagColumn]:
        """Wide columns with their spec normalised to :class:`TagColumn`."""
        return {
            col: spec if isinstance(spec, TagColumn) else TagColumn(tag=spec)
            for col, spec in self.columns.items()
        }


class TextSpec(BaseModel):
    """A customer-text column.

    Attributes:
        column: Column with the text.
        channel: Channel constant (``survey``, ``call``, ``chat``, ``social`` ...) or column.
        lang: ``zh``/``en`` constant or column; detected when missing.
        time: Column with the time the text was written (optional).
    """

    model_config = _STRICT
    column: str
    channel: ConstOrColumn = "unknown"
    lang: ConstOrColumn | None = None
    time: str | None = None


class StrategySpec(BaseModel):
    """Strategies offered to the customer and their outcome.

    Attributes:
        strategy: Column naming the strategy offered.
        values: Raw value -> strategy id; ``null`` means "no offer" (row has no offer).
        outcome: ``offered``/``accepted``/``declined`` constant, or a column.
        outcome_values: Raw outcome -> outcome, on top of the built-in spellings.
        satisfaction_after: Column with the 1-5 satisfaction after the offer (optional).
        time: Column with the time of the offer (optional).
        offer_id: Column with an offer id that tells repeated offers apart (optional).
    """

    model_config = _STRICT
    strategy: str
    values: dict[str, str | None] = Field(default_factory=dict)
    outcome: ConstOrColumn = "offered"
    outcome_values: dict[str, Outcome] = Field(default_factory=dict)
    satisfaction_after: str | None = None
    time: str | None = None
    offer_id: str | None = None

    @field_validator("outcome")
    @classmethod
    def _outcome_constant(cls, value: ConstOrColumn) -> ConstOrColumn:
        if isinstance(value, str) and value not in ("offered", "accepted", "declined"):
            raise ValueError("a constant outcome is offered, accepted or declined")
        return value


class LabelSpec(BaseModel):
    """Satisfaction labels: a 1-5 score per domain.

    Attributes:
        score: Column with the score (1-5).
        domain: Domain id constant (``domain.overall``) or a column of domain ids/names.
        domain_values: Raw domain name -> domain id, for a domain column.
        time: Column with the survey time (optional).
    """

    model_config = _STRICT
    score: str
    domain: ConstOrColumn
    domain_values: dict[str, str] = Field(default_factory=dict)
    time: str | None = None


class FileSpec(BaseModel):
    """One input file and the record kinds it feeds.

    Attributes:
        path: File name or glob pattern, relative to the mapping's folder / the input folder.
        format: ``csv``, ``parquet`` or ``jsonl``; from the suffix when missing.
        encoding: Text encoding; detected when missing (``utf-8``, BOM, GB18030 ...).
        delimiter: CSV delimiter; sniffed when missing.
        customer_id: Customer id column (default: the mapping's).
        time: Default observation-time column for every kind of this file.
        ignore: Columns that are read but never used.
        attributes: Column -> customer property name (non-tag attributes).
        tags: Tag columns.
        text: Text columns.
        strategies: Strategy columns.
        labels: Label (satisfaction score) columns.
        missing_values: Raw values that mean "missing" on top of the mapping's.
        bad_values: ``row`` (default): a row with any bad value is quarantined whole;
            ``cell``: only the bad values are, the rest of the row is written.
    """

    model_config = _STRICT
    path: str
    format: FileFormat | None = None
    encoding: str | None = None
    delimiter: str | None = None
    customer_id: str | None = None
    time: str | None = None
    ignore: list[str] = Field(default_factory=list)
    attributes: dict[str, str] = Field(default_factory=dict)
    tags: TagsSpec | None = None
    text: list[TextSpec] = Field(default_factory=list)
    strategies: list[StrategySpec] = Field(default_factory=list)
    labels: list[LabelSpec] = Field(default_factory=list)
    missing_values: list[str] = Field(default_factory=list)
    bad_values: BadValues | None = None

    _wrap = field_validator("text", "strategies", "labels", mode="before")(_listify)

    @field_validator("delimiter")
    @classmethod
    def _known_delimiter(cls, value: str | None) -> str | None:
        if value is not None and value.replace("\\t", "\t") not in DELIMITERS:
            raise ValueError("delimiter must be one of , ; | or \\t")
        return None if value is None else value.replace("\\t", "\t")

    @field_validator("attributes")
    @classmethod
    def _snake_case(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value.values():
            if not name.replace("_", "a").isalnum() or not name[:1].isalpha() or not name.islower():
                raise ValueError(f"attribute name {name!r} must be lower-case snake_case")
            if name in ("source", "key"):
                raise ValueError(f"attribute name {name!r} is reserved")
        return value

    def kinds(self) -> tuple[Kind, ...]:
        """Return the record kinds this file feeds, in canonical order."""
        present = {
            "tags": self.tags is not None,
            "text": bool(self.text),
            "strategies": bool(self.strategies),
            "labels": bool(self.labels),
        }
        return tuple(k for k in KINDS if present[k])

    def matches(self, file_name: str) -> bool:
        """Return whether ``file_name`` (a base name or path) matches :attr:`path`."""
        name = PurePath(file_name).name
        pattern = PurePath(self.path).name
        return fnmatch.fnmatchcase(name, pattern) or fnmatch.fnmatchcase(file_name, self.path)

    def column_roles(self) -> Iterator[tuple[str, str, tuple[str | int, ...]]]:
        """Yield ``(column, role, path in the mapping)`` for every column this file reads."""
        if self.customer_id:
            yield self.customer_id, "customer_id", ("customer_id",)
        if self.time:
            yield self.time, "time", ("time",)
        for col, name in self.attributes.items():
            yield col, f"attribute {name}", ("attributes", col)
        if self.tags is not None:
            yield from _tag_roles(self.tags)
        for i, text in enumerate(self.text):
            yield text.column, "text", ("text", i, "column")
            for member in ("channel", "lang"):
                ref = getattr(text, member)
                if isinstance(ref, ColumnRef):
                    yield ref.column, f"text {member}", ("text", i, member)
            if text.time:
                yield text.time, "time", ("text", i, "time")
        for i, strat in enumerate(self.strategies):
            yield strat.strategy, "strategy", ("strategies", i, "strategy")
            if isinstance(strat.outcome, ColumnRef):
                yield strat.outcome.column, "outcome", ("strategies", i, "outcome")
            for member in ("satisfaction_after", "time", "offer_id"):
                col = getattr(strat, member)
                if col:
                    role = "label" if member == "satisfaction_after" else member
                    yield col, role, ("strategies", i, member)
        for i, label in enumerate(self.labels):
            yield label.score, "label", ("labels", i, "score")
            if isinstance(label.domain, ColumnRef):
                yield label.domain.column, "label domain", ("labels", i, "domain")
            if label.time:
                yield label.time, "time", ("labels", i, "time")


def _tag_roles(tags: TagsSpec) -> Iterator[tuple[str, str, tuple[str | int, ...]]]:
    for col in tags.columns:
        yield col, "tag", ("tags", "columns", col)
    if tags.time:
        yield tags.time, "time", ("tags", "time")
    if tags.long is not None:
        yield tags.long.tag, "tag name", ("tags", "long", "tag")
        yield tags.long.value, "tag", ("tags", "long", "value")
        if tags.long.time:
            yield tags.long.time, "time", ("tags", "long", "time")


class Mapping(BaseModel):
    """A whole mapping file.

    Attributes:
        version: Format version (1).
        dataset: Dataset name, written as ``source`` on every customer.
        description: Free text.
        customer_id: Default customer id column.
        encoding: Default encoding of every file (detected when missing).
        delimiter: Default CSV delimiter (sniffed when missing).
        timezone: Time zone of times without one (IANA name, default UTC).
        observed_at: Observation time of records whose file has no time column (optional).
        never_inputs: Columns that must never be read as inputs (they leak the label).
        withhold_labels: Ingest no labels (held-out customers); like ``--no-labels``.
        missing_values: Raw values meaning "missing" besides the empty cell.
        bad_values: Default quarantine policy (``row`` or ``cell``) of every file.
        files: The files.
    """

    model_config = _STRICT
    version: int = 1
    dataset: str = Field(min_length=1)
    description: str = ""
    customer_id: str = "customer_id"
    encoding: str | None = None
    delimiter: str | None = None
    timezone: str = "UTC"
    observed_at: str | None = None
    never_inputs: list[str] = Field(default_factory=list)
    withhold_labels: bool = False
    missing_values: list[str] = Field(default_factory=list)
    bad_values: BadValues = "row"
    files: list[FileSpec] = Field(min_length=1)

    @field_validator("version")
    @classmethod
    def _version_one(cls, value: int) -> int:
        if value != 1:
            raise ValueError("this needgraph reads mapping format version 1")
        return value

    @field_validator("observed_at")
    @classmethod
    def _a_time(cls, value: str | None) -> str | None:
        if value is not None:
            from needgraph.ingest.values import ValueProblemError, parse_time

            try:
                parse_time(value)
            except ValueProblemError as exc:
                raise ValueError(f"observed_at: {exc}") from exc
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from exc
        return value

    def file_customer_id(self, spec: FileSpec) -> str:
        """Return the customer id column of ``spec``."""
        return spec.customer_id or self.customer_id

    def resolved(self, spec: FileSpec) -> FileSpec:
        """Return ``spec`` with the mapping-wide defaults filled in."""
        return spec.model_copy(
            update={
                "customer_id": self.file_customer_id(spec),
                "encoding": spec.encoding or self.encoding,
                "delimiter": spec.delimiter or self.delimiter,
                "missing_values": [*self.missing_values, *spec.missing_values],
                "bad_values": spec.bad_values or self.bad_values,
            }
        )

    def find_file(self, file_name: str) -> tuple[int, FileSpec] | None:
        """Return the first file spec (with its index) matching ``file_name``."""
        for index, spec in enumerate(self.files):
            if spec.matches(file_name):
                return index, spec
        return None


class MappingRoleError(ValueError):
    """A structural problem found at a known place of the mapping (raised inside validation)."""

    def __init__(self, message: str, path: tuple[str | int, ...]) -> None:
        super().__init__(message)
        self.path = path


_VALUE_ROLES = {"tag", "text", "label", "strategy", "outcome"}


def check_all_roles(mapping: Mapping) -> None:
    """Run :func:`check_roles` on every file of ``mapping``."""
    for index, spec in enumerate(mapping.files):
        check_roles(mapping, spec, index)


def check_roles(mapping: Mapping, spec: FileSpec, index: int) -> None:
    """Refuse forbidden columns and columns that feed a label and an input at once.

    Raises:
        MappingRoleError: With the path of the offending member.
    """
    spec = spec.model_copy(update={"customer_id": mapping.file_customer_id(spec)})
    forbidden = set(mapping.never_inputs)
    roles: dict[str, list[tuple[str, tuple[str | int, ...]]]] = {}
    for column, role, path in spec.column_roles():
        full = ("files", index, *path)
        if column in forbidden:
            raise MappingRoleError(
                f"column {column!r} is listed in never_inputs but mapped as {role}", full
            )
        roles.setdefault(column, []).append((role, full))
    for column, uses in roles.items():
        kinds = {role for role, _ in uses}
        if "label" in kinds and kinds & (_VALUE_ROLES - {"label"}):
            raise MappingRoleError(
                f"column {column!r} is a label and also an input ({', '.join(sorted(kinds))}); "
                "a label must never be an input",
                uses[-1][1],
            )
        if "customer_id" in kinds and len(kinds) > 1:
            raise MappingRoleError(
                f"the customer id column {column!r} is also mapped as "
                f"{', '.join(sorted(kinds - {'customer_id'}))}",
                uses[-1][1],
            )
    for column in spec.ignore:
        if column in roles:
            raise MappingRoleError(
                f"column {column!r} is listed in ignore but mapped as {roles[column][0][0]}",
                ("files", index, "ignore"),
            )
