"""The concept model: needs, causes, tags, strategies, segments and domains, as frozen records.

Set-like members (synonyms and relation targets) are kept sorted and de-duplicated, so two
ontologies with the same content compare equal whatever order their files list things in. Bins
and rules keep their written order (it carries meaning for people reading them).
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator
from typing import Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, field_validator

from needgraph.ontology.rules import Rule

Kind: TypeAlias = Literal["Domain", "Need", "Cause", "Tag", "Strategy", "Segment"]
ValueType: TypeAlias = Literal["numeric", "categorical", "boolean", "group"]
Channel: TypeAlias = Literal[
    "sms", "outbound_call", "app_push", "online_chat", "store", "field_engineer", "bill"
]
KINDS: tuple[Kind, ...] = ("Domain", "Need", "Cause", "Tag", "Strategy", "Segment")
TAG_BIN = "TagBin"

#: Members only some kinds may use (common members: id, kind, label, synonyms, definition,
#: broader, deprecated, replaced_by).
KIND_MEMBERS: dict[str, frozenset[str]] = {
    "Domain": frozenset(),
    "Need": frozenset({"domains"}),
    "Cause": frozenset({"affects", "blocks"}),
    "Tag": frozenset({"value_type", "unit", "parent", "derived_from", "bins", "indicates"}),
    "Strategy": frozenset({"cost", "channel", "addresses", "resolves", "eligibility"}),
    "Segment": frozenset({"rule"}),
}

#: Relation members: member -> (relationship type, kind of the target; ``None`` = same kind).
RELATION_MEMBERS: dict[str, tuple[str, str | None]] = {
    "broader": ("BROADER", None),
    "replaced_by": ("REPLACED_BY", None),
    "domains": ("CONCERNS", "Domain"),
    "affects": ("AFFECTS", "Domain"),
    "blocks": ("BLOCKS", "Need"),
    "parent": ("SUB_TAG_OF", "Tag"),
    "derived_from": ("DERIVED_FROM", "Tag"),
    "addresses": ("ADDRESSES", "Need"),
    "resolves": ("RESOLVES", "Cause"),
}

_FROZEN = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def id_prefix(kind: str) -> str:
    """Return the id prefix concepts of ``kind`` use (``Cause`` -> ``cause``)."""
    return kind.lower()


def bin_key(tag_id: str, bin_id: str) -> str:
    """Return the key of a tag bin's graph node, ``<tag id>=<bin id>``."""
    return f"{tag_id}={bin_id}"


def _sorted_unique(values: Any) -> Any:
    if isinstance(values, list | tuple) and all(isinstance(v, str) for v in values):
        return tuple(sorted({v.strip() for v in values}))
    return values


class LangText(BaseModel):
    """A text in both languages; an empty string means missing."""

    model_config = _FROZEN
    zh: str = ""
    en: str = ""


class Synonyms(BaseModel):
    """Alternative labels per language, as customers and staff say them."""

    model_config = _FROZEN
    zh: tuple[str, ...] = ()
    en: tuple[str, ...] = ()

    _sort = field_validator("zh", "en", mode="before")(_sorted_unique)


def parse_number(raw: object) -> float | None:
    """Parse a raw tag value as a number; tolerant of ``"1,234.5"``, ``" 12 "`` and full width.

    Returns:
        The number, or ``None`` for booleans, blanks, NaN and text that is no number.
    """
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        value = float(raw)
    else:
        text = unicodedata.normalize("NFKC", str(raw)).strip().replace(",", "").replace("_", "")
        try:
            value = float(text.replace(" ", ""))
        except ValueError:
            return None
    return value if math.isfinite(value) else None


def normalise_value(raw: object) -> str:
    """Normalise a raw categorical value for matching: trimmed, case-folded, NFKC."""
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    return " ".join(unicodedata.normalize("NFKC", str(raw)).casefold().split())


class Bin(BaseModel):
    """One bin of a tag: numeric bounds ``[min, max)`` or a list of categorical raw values."""

    model_config = ConfigDict(**_FROZEN, coerce_numbers_to_str=True)
    id: str
    label: LangText = LangText()
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] = ()

    def contains_number(self, value: float) -> bool:
        """Return whether ``value`` lies in ``[min, max)`` (open ends are unbounded)."""
        return (self.min is None or value >= self.min) and (self.max is None or value < self.max)

    def contains_text(self, value: object) -> bool:
        """Return whether ``value`` is one of ``values`` (trimmed, case-insensitive)."""
        wanted = normalise_value(value)
        return any(normalise_value(v) == wanted for v in self.values)


class Indication(BaseModel):
    """Bins of the owning tag indicate ``cause`` with ``weight`` in (0, 1]."""

    model_config = _FROZEN
    cause: str
    weight: float
    when: tuple[str, ...] = ()


class Manifest(BaseModel):
    """The ontology's name and human version (semver), from ``ontology.yaml``."""

    model_config = _FROZEN
    name: str
    version: str
    default_language: str = "zh"
    languages: tuple[str, ...] = ("zh", "en")

    def to_data(self) -> dict[str, Any]:
        """Return the manifest as plain data (every member written)."""
        data: dict[str, Any] = self.model_dump(mode="json")
        return data


class Concept(BaseModel):
    """One concept. Kind-specific members stay at their defaults on other kinds.

    Example:
        >>> c = Concept(id="cause.slow_repair", kind="Cause", label={"zh": "报障响应慢",
        ...     "en": "slow repair response"}, blocks=["need.fast_repair"])
        >>> c.blocks
        ('need.fast_repair',)
    """

    model_config = _FROZEN
    id: str
    kind: Kind
    label: LangText = LangText()
    synonyms: Synonyms = Synonyms()
    definition: LangText = LangText()
    broader: tuple[str, ...] = ()
    deprecated: bool = False
    replaced_by: str | None = None
    domains: tuple[str, ...] = ()
    affects: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()
    value_type: ValueType | None = None
    unit: str | None = None
    parent: str | None = None
    derived_from: tuple[str, ...] = ()
    bins: tuple[Bin, ...] = ()
    indicates: tuple[Indication, ...] = ()
    cost: float | None = None
    channel: Channel | None = None
    addresses: tuple[str, ...] = ()
    resolves: tuple[str, ...] = ()
    eligibility: Rule | None = None
    rule: Rule | None = None

    _sort = field_validator(
        "broader",
        "domains",
        "affects",
        "blocks",
        "derived_from",
        "addresses",
        "resolves",
        mode="before",
    )(_sorted_unique)

    @field_validator("indicates", mode="after")
    @classmethod
    def _sort_indications(cls, value: tuple[Indication, ...]) -> tuple[Indication, ...]:
        return tuple(sorted(value, key=lambda i: (i.cause, i.weight, i.when)))

    def set_members(self) -> list[str]:
        """Return the names of members whose value differs from the default, in field order."""
        return [
            name
            for name, info in type(self).model_fields.items()
            if getattr(self, name) != info.default
        ]

    def references(self) -> Iterator[tuple[str, str, str, str]]:
        """Yield ``(member, relationship type, target id, target kind)`` for each relation member.

        ``indicates`` yields ``INDICATES`` with the cause as target; the target kind of
        ``broader`` and ``replaced_by`` is the concept's own kind.
        """
        for member, (rel_type, kind) in RELATION_MEMBERS.items():
            value = getattr(self, member)
            targets = (value,) if isinstance(value, str) else value or ()
            for target in targets:
                yield member, rel_type, target, kind or self.kind
        for indication in self.indicates:
            yield "indicates", "INDICATES", indication.cause, "Cause"

    def bin(self, bin_id: str) -> Bin | None:
        """Return the bin of this tag called ``bin_id``, or ``None``."""
        return next((b for b in self.bins if b.id == bin_id), None)

    def bin_for(self, raw_value: object) -> str | None:
        """Return the id of the bin a raw tag value falls in, or ``None`` when none does.

        Numeric tags parse the value tolerantly (``"1,234.5"``, ``" 12 "``); categorical and
        boolean tags match it against each bin's ``values``, trimmed and case-insensitive.
        """
        if not self.bins or raw_value is None:
            return None
        if self.value_type == "numeric":
            number = parse_number(raw_value)
            if number is None:
                return None
            return next((b.id for b in self.bins if b.contains_number(number)), None)
        return next((b.id for b in self.bins if b.contains_text(raw_value)), None)

    def to_data(self) -> dict[str, Any]:
        """Return the concept as plain data: default members left out, whole floats as ints."""
        data: dict[str, Any] = self.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        result: dict[str, Any] = plain(data)
        return result


def plain(value: Any) -> Any:
    """Return ``value`` with whole floats turned into ints (canonical, readable numbers)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value
