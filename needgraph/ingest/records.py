"""Turn one source row into one customer record (tags, texts, offers, labels) or problems.

Validation happens here, before anything is written: a row whose customer id is missing, or
(under the default ``bad_values: row`` policy) that has any value that cannot be used, yields no
record, only :class:`Problem` entries for the quarantine file. Blank cells are missing values:
neither written nor reported. Raw customer text is masked (:func:`~needgraph.ingest.privacy.
mask_pii`) the moment it is read.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from needgraph.ingest.errors import MappingError
from needgraph.ingest.mapping import ColumnRef, FileSpec, Kind, Mapping, TagColumn
from needgraph.ingest.privacy import mask_pii, mask_value
from needgraph.ingest.readers import SourceRow
from needgraph.ingest.values import (
    ValueProblemError,
    as_property,
    cell_text,
    is_missing,
    norm,
    parse_outcome,
    parse_score,
    parse_time,
)
from needgraph.ontology.core import Ontology
from needgraph.ontology.model import Concept, parse_number

_CACHE_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class TagObs:
    """A tag value of a customer, already binned."""

    tag_id: str
    bin_id: str
    value: str | float
    observed_at: str | None


@dataclass(frozen=True, slots=True)
class TextObs:
    """A customer text, masked, with where and when it was said."""

    text: str
    channel: str
    lang: str | None
    observed_at: str | None
    column: str


@dataclass(frozen=True, slots=True)
class OfferObs:
    """A strategy offered to a customer and its outcome."""

    strategy_id: str
    outcome: str
    satisfaction_after: float | None
    observed_at: str | None
    ref: str


@dataclass(frozen=True, slots=True)
class LabelObs:
    """A 1-5 satisfaction score of a customer for a domain."""

    domain_id: str
    score: float
    observed_at: str | None


@dataclass(slots=True)
class CustomerRecord:
    """Everything one row says about one customer."""

    row: int
    customer_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    tags: list[TagObs] = field(default_factory=list)
    texts: list[TextObs] = field(default_factory=list)
    offers: list[OfferObs] = field(default_factory=list)
    labels: list[LabelObs] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Problem:
    """One quarantine entry: what is wrong with which field of which row (value masked)."""

    row: int
    field: str
    value: str
    reason: str
    hint: str
    kind: str = ""


class TagBinner:
    """``Concept.bin_for`` with a bounded cache of raw value -> bin (categorical tags)."""

    def __init__(self, tag: Concept) -> None:
        self.tag = tag
        self.numeric = tag.value_type == "numeric"
        self._cache: dict[str, str | None] = {}

    def bin(self, raw: object) -> tuple[str | None, str | float]:
        """Return ``(bin id or None, value to store)`` for a raw cell."""
        if self.numeric:
            number = _fast_number(raw)
            if number is None:
                return None, cell_text(raw)
            return self.tag.bin_for(number), number
        text = cell_text(raw)
        if text in self._cache:
            return self._cache[text], text
        found = self.tag.bin_for(text)
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[text] = found
        return found, text

    def describe_bins(self) -> str:
        """Short description of the bins, for hints."""
        parts = []
        for b in self.tag.bins[:8]:
            if self.numeric:
                parts.append(f"{b.id} [{b.min if b.min is not None else '-inf'}, "
                             f"{b.max if b.max is not None else 'inf'})")
            else:
                parts.append(f"{b.id}: {', '.join(b.values[:5])}")
        return "; ".join(parts)


def _fast_number(raw: object) -> float | None:
    """``parse_number`` with a fast path for plain numbers (the common case)."""
    if isinstance(raw, str):
        try:
            value = float(raw)
        except ValueError:
            return parse_number(raw)
        return value if math.isfinite(value) else None
    return parse_number(raw)


def _lang(raw: object) -> str | None:
    key = norm(raw)
    if key.startswith(("zh", "cn", "chi", "中")):
        return "zh"
    if key.startswith(("en", "eng", "英")):
        return "en"
    return None


class RowParser:
    """Validates rows of one file against its mapping and the ontology.

    Args:
        mapping: The whole mapping (dataset defaults).
        spec: The file's spec (defaults resolved with :meth:`Mapping.resolved`).
        ontology: The ontology the store holds.
        kinds: Record kinds to produce (labels left out when withheld).
        index: Position of the file in ``mapping.files`` (for hints).
    """

    def __init__(
        self,
        mapping: Mapping,
        spec: FileSpec,
        ontology: Ontology,
        kinds: Iterable[Kind],
        index: int = 0,
    ) -> None:
        self.mapping = mapping
        self.spec = spec
        self.ontology = ontology
        self.kinds = frozenset(kinds)
        self.where = f"files[{index}]"
        self.customer_col = spec.customer_id or mapping.customer_id
        self.missing = frozenset(norm(v) for v in spec.missing_values)
        self.whole_rows = (spec.bad_values or mapping.bad_values) == "row"
        self.tz = mapping.timezone
        self.default_time = (
            parse_time(mapping.observed_at, self.tz) if mapping.observed_at else None)
        self._binners: dict[str, TagBinner] = {}
        self._wide: dict[str, tuple[TagColumn, dict[str, str | None]]] = {}
        if "tags" in self.kinds and spec.tags is not None:
            for col, tag_col in spec.tags.wide().items():
                self._wide[col] = (tag_col, {norm(k): v for k, v in tag_col.values.items()})
        self._long_names = (
            {k: v for k, v in spec.tags.long.tags.items()} if spec.tags and spec.tags.long else {}
        )
        self._strategy_maps = [{norm(k): v for k, v in s.values.items()} for s in spec.strategies]
        self._domain_maps = [{norm(k): v for k, v in s.domain_values.items()} for s in spec.labels]

    # -- columns -----------------------------------------------------------------------------
    def used_columns(self) -> set[str]:
        """Every column the mapping names for this file (whatever kinds are selected)."""
        return {column for column, _role, _path in self.spec.column_roles()}

    def _selected(self, path: tuple[str | int, ...]) -> bool:
        section = path[0]
        return section not in ("tags", "text", "strategies", "labels") or section in self.kinds

    def check_columns(self, header: Iterable[str], file_name: str) -> list[str]:
        """Check that every mapped column exists; return the columns nobody reads.

        Raises:
            MappingError: Naming the missing columns and the mapping member of each.
        """
        present = set(header)
        missing = [
            f"{column!r} ({self.where}.{'.'.join(str(p) for p in path)})"
            for column, _role, path in self.spec.column_roles()
            if column not in present and self._selected(path)
        ]
        if missing:
            raise MappingError(
                f"{file_name}: mapped column(s) not in the file: {', '.join(missing)}",
                hint=f"Columns of {file_name}: {', '.join(sorted(present))[:600]}",
            )
        known = self.used_columns() | set(self.spec.ignore) | set(self.mapping.never_inputs)
        return [c for c in header if c not in known and c]

    # -- helpers -----------------------------------------------------------------------------
    def _binner(self, tag_id: str) -> TagBinner | None:
        found = self._binners.get(tag_id)
        if found is None:
            concept = self.ontology.get(tag_id)
            if concept is None or concept.kind != "Tag" or not concept.bins:
                return None
            found = self._binners[tag_id] = TagBinner(concept)
        return found

    def _time(self, cells: dict[str, Any], column: str | None, problems: list[Problem],
              row: int, kind: str) -> str | None:
        column = column or self.spec.time
        if column is None:
            return self.default_time
        raw = cells.get(column)
        if is_missing(raw, self.missing):
            return self.default_time
        try:
            return parse_time(raw, self.tz)
        except ValueProblemError as exc:
            problems.append(Problem(row, column, mask_value(raw), str(exc),
                                    f"Fix the time in column {column!r} of row {row}", kind))
            return None

    def _const_or_column(self, cells: dict[str, Any], ref: str | ColumnRef | None) -> Any:
        if isinstance(ref, ColumnRef):
            raw = cells.get(ref.column)
            return None if is_missing(raw, self.missing) else raw
        return ref

    # -- parse -------------------------------------------------------------------------------
    def parse(self, row: SourceRow) -> tuple[CustomerRecord | None, list[Problem]]:
        """Return the row's record (``None`` when the row is quarantined) and its problems."""
        cells = row.cells
        raw_id = cells.get(self.customer_col)
        if is_missing(raw_id, self.missing):
            return None, [Problem(row.number, self.customer_col, "", "missing customer id",
                                  f"Fill in {self.customer_col!r} in row {row.number}")]
        record = CustomerRecord(row.number, cell_text(raw_id))
        problems: list[Problem] = []
        for column, name in self.spec.attributes.items():
            raw = cells.get(column)
            if not is_missing(raw, self.missing):
                record.attributes[name] = as_property(raw)
        if "tags" in self.kinds and self.spec.tags is not None:
            self._tags(cells, record, problems)
        if "text" in self.kinds:
            self._texts(cells, record, problems)
        if "strategies" in self.kinds:
            self._offers(cells, record, problems)
        if "labels" in self.kinds:
            self._labels(cells, record, problems)
        if problems and self.whole_rows:
            return None, problems
        return record, problems

    def _tags(self, cells: dict[str, Any], record: CustomerRecord, problems: list[Problem]) -> None:
        tags = self.spec.tags
        assert tags is not None
        row = record.row
        if tags.long is not None:
            self._long_tag(cells, record, problems)
            return
        when = self._time(cells, tags.time, problems, row, "tags")
        for column, (tag_col, values) in self._wide.items():
            raw = cells.get(column)
            if is_missing(raw, self.missing):
                continue
            if values:
                key = norm(raw)
                if key in values:
                    raw = values[key]
                    if raw is None:
                        continue
            self._bin_into(tag_col.tag, raw, column, when, record, problems)

    def _long_tag(self, cells: dict[str, Any], record: CustomerRecord,
                  problems: list[Problem]) -> None:
        long = self.spec.tags.long if self.spec.tags else None
        assert long is not None
        row = record.row
        raw_tag, raw = cells.get(long.tag), cells.get(long.value)
        if is_missing(raw, self.missing):
            return
        if is_missing(raw_tag, self.missing):
            problems.append(Problem(row, long.tag, "", "missing tag name",
                                    f"Fill in the tag of row {row}", "tags"))
            return
        name = cell_text(raw_tag)
        tag_id = self._long_names.get(name, name)
        if self._binner(tag_id) is None:
            problems.append(Problem(
                row, long.tag, mask_value(name),
                "unknown tag (not a tag with bins in the ontology)",
                f"Add tag {tag_id!r} to the ontology (then `needgraph ontology load`), or map "
                f"the name in {self.where}.tags.long.tags", "tags"))
            return
        when = self._time(cells, long.time, problems, row, "tags")
        self._bin_into(tag_id, raw, long.value, when, record, problems)

    def _bin_into(self, tag_id: str, raw: object, column: str, when: str | None,
                  record: CustomerRecord, problems: list[Problem]) -> None:
        binner = self._binner(tag_id)
        if binner is None:
            problems.append(Problem(record.row, column, mask_value(raw),
                                    f"tag {tag_id!r} is not in the ontology",
                                    f"Add {tag_id!r} to the ontology or fix the mapping", "tags"))
            return
        bin_id, value = binner.bin(raw)
        if bin_id is None:
            problems.append(Problem(
                record.row, column, mask_value(raw),
                f"value fits no bin of {tag_id} ({binner.tag.value_type})",
                f"Add a bin for it to {tag_id} in the ontology, or map the value in "
                f"{self.where}.tags.columns.{column}.values; bins: {binner.describe_bins()}",
                "tags"))
            return
        record.tags.append(TagObs(tag_id, bin_id, value, when))

    def _texts(self, cells: dict[str, Any], record: CustomerRecord,
               problems: list[Problem]) -> None:
        for spec in self.spec.text:
            raw = cells.get(spec.column)
            if is_missing(raw, self.missing):
                continue
            if not isinstance(raw, str):
                raw = cell_text(raw)
            channel = self._const_or_column(cells, spec.channel)
            lang = self._const_or_column(cells, spec.lang)
            when = self._time(cells, spec.time, problems, record.row, "text")
            record.texts.append(TextObs(
                text=mask_pii(raw.strip()),
                channel=cell_text(channel) if channel is not None else "unknown",
                lang=_lang(lang) if lang is not None else None,
                observed_at=when,
                column=spec.column,
            ))

    def _offers(self, cells: dict[str, Any], record: CustomerRecord,
                problems: list[Problem]) -> None:
        row = record.row
        for i, spec in enumerate(self.spec.strategies):
            raw = cells.get(spec.strategy)
            if is_missing(raw, self.missing):
                continue
            key = norm(raw)
            values = self._strategy_maps[i]
            if key in values:
                strategy_id = values[key]
                if strategy_id is None:
                    continue  # mapped to "no offer"
            else:
                strategy_id = cell_text(raw)
            concept = self.ontology.get(strategy_id)
            if concept is None or concept.kind != "Strategy":
                problems.append(Problem(
                    row, spec.strategy, mask_value(raw), "unknown strategy",
                    f"Map the value in {self.where}.strategies[{i}].values (null = no offer), "
                    "or add the strategy to the ontology", "strategies"))
                continue
            outcome = "offered"
            raw_outcome = self._const_or_column(cells, spec.outcome)
            if raw_outcome is not None:
                try:
                    outcome = parse_outcome(raw_outcome, dict(spec.outcome_values))
                except ValueProblemError as exc:
                    column = spec.outcome.column if isinstance(spec.outcome, ColumnRef) else ""
                    problems.append(Problem(row, column, mask_value(raw_outcome), str(exc),
                                            f"Map it in {self.where}.strategies[{i}]."
                                            "outcome_values", "strategies"))
                    continue
            after = None
            if spec.satisfaction_after:
                raw_after = cells.get(spec.satisfaction_after)
                if not is_missing(raw_after, self.missing):
                    try:
                        after = parse_score(raw_after)
                    except ValueProblemError as exc:
                        problems.append(Problem(row, spec.satisfaction_after,
                                                mask_value(raw_after), str(exc),
                                                "Use a 1-5 score or leave it blank", "strategies"))
                        continue
            when = self._time(cells, spec.time, problems, row, "strategies")
            ref_raw = cells.get(spec.offer_id) if spec.offer_id else None
            ref = (cell_text(ref_raw) if not is_missing(ref_raw, self.missing)
                   else when or "undated")
            record.offers.append(OfferObs(strategy_id, outcome, after, when, ref))

    def _labels(self, cells: dict[str, Any], record: CustomerRecord,
                problems: list[Problem]) -> None:
        row = record.row
        for i, spec in enumerate(self.spec.labels):
            raw = cells.get(spec.score)
            if is_missing(raw, self.missing):
                continue
            try:
                score = parse_score(raw)
            except ValueProblemError as exc:
                problems.append(Problem(row, spec.score, mask_value(raw), str(exc),
                                        f"Use a 1-5 score in {spec.score!r} or leave it blank",
                                        "labels"))
                continue
            raw_domain = self._const_or_column(cells, spec.domain)
            if raw_domain is None:
                continue
            domain_id = self._domain_maps[i].get(norm(raw_domain), cell_text(raw_domain))
            concept = self.ontology.get(domain_id)
            if concept is None or concept.kind != "Domain":
                column = spec.domain.column if isinstance(spec.domain, ColumnRef) else spec.score
                problems.append(Problem(row, column, mask_value(raw_domain), "unknown domain",
                                        f"Map it in {self.where}.labels[{i}].domain_values or "
                                        "add the domain to the ontology", "labels"))
                continue
            when = self._time(cells, spec.time, problems, row, "labels")
            record.labels.append(LabelObs(domain_id, score, when))
