"""The ontology as a whole: versions (audit records with diffs) and loads."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

_VERSION_EXAMPLE: dict[str, Any] = {
    "version": "1.0.3",
    "previous_version": "1.0.2",
    "content_hash": "5d41402abc4b2a76b9719d911017c592" * 2,
    "who": "ana",
    "when": "2025-01-31T09:15:00Z",
    "why": "duplicate cause",
    "operation": "deprecate",
    "diff": {"added": [], "removed": [], "changed": {"cause.peak_hour_slowness": ["deprecated"]}},
    "details": {
        "source": "cause.peak_hour_slowness",
        "target": "cause.evening_congestion",
        "relinked": 2,
    },
}


class DiffPublic(BaseModel):
    """Concepts added, removed and changed (with the members that changed) by a version."""

    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    changed: dict[str, list[str]] = Field(default_factory=dict)


class VersionPublic(BaseModel):
    """One accepted change of the ontology the store holds (an audit record)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_VERSION_EXAMPLE]})
    version: str
    previous_version: str | None = None
    content_hash: str
    who: str
    when: str
    why: str
    operation: Literal["load", "deprecate", "merge"]
    diff: DiffPublic
    details: dict[str, str | int | list[str]] = Field(default_factory=dict)


class OntologyVersionCreate(BaseModel):
    """Load the ontology files on disk into the store as a new version."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"why": "editors merged the tag hierarchy in git"}]},
    )
    why: str = Field(min_length=1, max_length=1000, description="kept in the audit trail")


class LoadPublic(BaseModel):
    """What a load did (``changed`` is false when the store already held this content)."""

    changed: bool
    version: str
    content_hash: str
    record: VersionPublic | None = None
    nodes_written: int = 0
    relationships_written: int = 0
    relationships_removed: int = 0
    deleted: list[str] = Field(default_factory=list)
    kept: list[str] = Field(default_factory=list)
