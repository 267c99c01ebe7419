"""Concepts of the ontology: create, update, read, deprecate, merge.

Member types reuse the ontology package's models (:class:`~needgraph.ontology.model.LangText`,
``Synonyms``, ``Bin``, ``Indication``); whether a concept is *valid* (labels in both languages,
references that exist, bins that do not overlap ...) is decided by the ontology validator, not
here, and a refusal names every problem.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from needgraph.api.schemas.ontology import VersionPublic
from needgraph.ontology.model import Bin, Channel, Indication, Kind, LangText, Synonyms, ValueType

CONCEPT_ID_PATTERN = r"^[a-z]+\.[a-z0-9][a-z0-9_]*(\.[a-z0-9][a-z0-9_]*)*$"
_STRICT = ConfigDict(extra="forbid")


def _why() -> Any:
    return Field(
        min_length=1,
        max_length=1000,
        description="why the change is made (kept in the audit trail)",
        examples=["merge duplicate cause reported by the Shanghai team"],
    )


def _ids() -> Any:
    return Field(default_factory=list, max_length=200)


_CREATE_EXAMPLE: dict[str, Any] = {
    "id": "cause.router_overheating",
    "kind": "Cause",
    "label": {"zh": "光猫过热", "en": "router overheating"},
    "synonyms": {"zh": ["光猫发烫", "路由器很烫"], "en": ["modem overheating"]},
    "definition": {
        "zh": "家中光猫或路由器散热不良导致断流、重启。",
        "en": "The home gateway or router overheats and drops or restarts.",
    },
    "broader": ["cause.broadband_quality"],
    "affects": ["domain.home_broadband"],
    "blocks": ["need.reliable_broadband_connection"],
    "why": "editors saw it in 40 complaints this week",
}


class _Members(BaseModel):
    """Members a concept may carry (which ones a kind may use: docs/ontology-format.md)."""

    model_config = _STRICT
    synonyms: Synonyms = Synonyms()
    broader: list[str] = _ids()
    domains: list[str] = _ids()
    affects: list[str] = _ids()
    blocks: list[str] = _ids()
    value_type: ValueType | None = None
    unit: str | None = Field(None, max_length=50)
    parent: str | None = Field(None, max_length=200)
    derived_from: list[str] = _ids()
    bins: list[Bin] = Field(default_factory=list, max_length=200)
    indicates: list[Indication] = Field(default_factory=list, max_length=200)
    cost: float | None = Field(None, allow_inf_nan=False)
    channel: Channel | None = None
    addresses: list[str] = _ids()
    resolves: list[str] = _ids()
    eligibility: dict[str, Any] | None = Field(
        None, description="rule: {tag, in} | {all: [...]} | {any: [...]} | {not: rule}"
    )
    rule: dict[str, Any] | None = Field(None, description="segment rule (same form)")


class ConceptCreate(_Members):
    """A new concept and why it is added."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_CREATE_EXAMPLE]})
    id: str = Field(
        pattern=CONCEPT_ID_PATTERN,
        max_length=200,
        description="<kind>.<snake_case>, e.g. cause.router_overheating",
    )
    kind: Kind
    label: LangText
    definition: LangText
    why: str = _why()


class ConceptUpdate(BaseModel):
    """Members to replace (``null`` resets one); ``id`` and ``kind`` never change."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "synonyms": {"zh": ["晚上卡", "晚上网速慢", "晚上看视频一直卡"]},
                    "why": "add the wording customers use in chats",
                }
            ]
        },
    )
    label: LangText | None = None
    definition: LangText | None = None
    synonyms: Synonyms | None = None
    broader: list[str] | None = Field(None, max_length=200)
    domains: list[str] | None = Field(None, max_length=200)
    affects: list[str] | None = Field(None, max_length=200)
    blocks: list[str] | None = Field(None, max_length=200)
    value_type: ValueType | None = None
    unit: str | None = Field(None, max_length=50)
    parent: str | None = Field(None, max_length=200)
    derived_from: list[str] | None = Field(None, max_length=200)
    bins: list[Bin] | None = Field(None, max_length=200)
    indicates: list[Indication] | None = Field(None, max_length=200)
    cost: float | None = Field(None, allow_inf_nan=False)
    channel: Channel | None = None
    addresses: list[str] | None = Field(None, max_length=200)
    resolves: list[str] | None = Field(None, max_length=200)
    eligibility: dict[str, Any] | None = None
    rule: dict[str, Any] | None = None
    why: str = _why()


class DeprecationCreate(BaseModel):
    """Deprecate a concept in favour of another of the same kind (its customer data moves)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"replaced_by": "cause.evening_congestion", "why": "duplicate"}]
        },
    )
    replaced_by: str = Field(min_length=1, max_length=200, description="id of the survivor")
    why: str = _why()


class MergeCreate(BaseModel):
    """Merge a concept into another: every relationship moves, the merged concept goes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"into": "cause.evening_congestion", "why": "duplicate"}]},
    )
    into: str = Field(min_length=1, max_length=200, description="id of the surviving concept")
    why: str = _why()


class RelationPublic(BaseModel):
    """One relationship of a concept in the ontology's graph form."""

    type: str = Field(examples=["BLOCKS"])
    direction: Literal["out", "in"]
    source: str = Field(description="concept id, or <tag id>=<bin id> for a tag bin")
    target: str
    props: dict[str, Any] = Field(default_factory=dict)


class ConceptPublic(BaseModel):
    """A concept as the ontology files hold it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "cause.evening_congestion",
                    "kind": "Cause",
                    "label": {"zh": "晚高峰拥塞", "en": "evening congestion"},
                    "synonyms": {"zh": ["晚上卡"], "en": ["slow in the evening"]},
                    "definition": {"zh": "晚高峰时段网络拥塞", "en": "congested at peak"},
                    "affects": ["domain.home_broadband"],
                    "blocks": ["need.stable_evening_broadband"],
                    "deprecated": False,
                    "replaced_by": None,
                    "matched": "晚上卡",
                }
            ]
        }
    )
    id: str
    kind: Kind
    label: LangText
    synonyms: Synonyms = Synonyms()
    definition: LangText = LangText()
    broader: list[str] = Field(default_factory=list)
    deprecated: bool = False
    replaced_by: str | None = None
    domains: list[str] = Field(default_factory=list)
    affects: list[str] = Field(default_factory=list)
    blocks: list[str] = Field(default_factory=list)
    value_type: ValueType | None = None
    unit: str | None = None
    parent: str | None = None
    derived_from: list[str] = Field(default_factory=list)
    bins: list[Bin] = Field(default_factory=list)
    indicates: list[Indication] = Field(default_factory=list)
    cost: float | None = None
    channel: Channel | None = None
    addresses: list[str] = Field(default_factory=list)
    resolves: list[str] = Field(default_factory=list)
    eligibility: dict[str, Any] | None = None
    rule: dict[str, Any] | None = None
    matched: str | None = Field(None, description="the label a search matched, as written")


class ConceptDetailPublic(ConceptPublic):
    """A concept with every relationship it takes part in (out of it and into it)."""

    relations: list[RelationPublic] = Field(default_factory=list)


class ConceptChangePublic(BaseModel):
    """The outcome of a change: the concept afterwards and the version it produced."""

    concept: ConceptDetailPublic | None = Field(
        None, description="the concept after the change (null when it was merged away)"
    )
    version: VersionPublic | None = Field(
        None, description="the new version record (null when nothing changed)"
    )
    relinked: int | None = Field(
        None, description="relationships moved to the survivor (deprecate and merge)"
    )
