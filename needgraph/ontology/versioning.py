"""Version records and the audit trail a store keeps about the ontology it holds.

Store metadata (``GraphStore.set_meta``), all JSON:

* ``ontology.version``: the current :class:`VersionRecord`;
* ``ontology.audit``: every accepted change, oldest first (a JSON list of version records);
* ``ontology.content``: the content of the current version (the canonical JSON form), so the
  next change can be diffed against it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from needgraph.graph.base import GraphStore
from needgraph.ontology.core import Ontology, canonical_json
from needgraph.ontology.errors import OntologyVersionError
from needgraph.ontology.parse import build_ontology
from needgraph.ontology.problems import NOWHERE
from needgraph.ontology.validate import SEMVER

VERSION_KEY = "ontology.version"
AUDIT_KEY = "ontology.audit"
CONTENT_KEY = "ontology.content"
Operation = Literal["load", "deprecate", "merge"]


class Diff(BaseModel):
    """What changed between two versions: concept ids added and removed, changed members."""

    model_config = ConfigDict(frozen=True)
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    @property
    def empty(self) -> bool:
        """Whether nothing changed in the concepts."""
        return not (self.added or self.removed or self.changed)


class VersionRecord(BaseModel):
    """One accepted change of the ontology a store holds.

    Attributes:
        version: Human semver of the new content (from the manifest, or bumped by a change).
        previous_version: Version the store held before, ``None`` for the first load.
        content_hash: :meth:`Ontology.content_hash` of the new content.
        who: Who made the change.
        when: UTC time, ISO 8601.
        why: Why it was made.
        operation: ``load``, ``deprecate`` or ``merge``.
        diff: Concepts added, removed and changed (with the changed members).
        details: Operation specifics (e.g. ``source``, ``target``, ``relinked``, ``kept``).
    """

    model_config = ConfigDict(frozen=True)
    version: str
    previous_version: str | None = None
    content_hash: str
    who: str
    when: str
    why: str
    operation: Operation = "load"
    diff: Diff = Diff()
    details: dict[str, str | int | list[str]] = Field(default_factory=dict)


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 with a ``Z`` suffix, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_version(version: str) -> tuple[int, int, int]:
    """Return ``(major, minor, patch)`` of a semver string.

    Raises:
        OntologyVersionError: ``version`` is not ``MAJOR.MINOR.PATCH``.
    """
    match = SEMVER.match(version)
    if match is None:
        raise OntologyVersionError(f"version {version!r} is not MAJOR.MINOR.PATCH")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def bump_patch(version: str) -> str:
    """Return ``version`` with its patch number raised by one (``1.2.3`` -> ``1.2.4``)."""
    major, minor, patch = parse_version(version)
    return f"{major}.{minor}.{patch + 1}"


def newest(*versions: str) -> str:
    """Return the highest of ``versions`` (semver order)."""
    return max(versions, key=parse_version)


def check_version_bump(current: VersionRecord | None, new_version: str) -> None:
    """Refuse changed content whose version is not above the version the store holds.

    Raises:
        OntologyVersionError: ``new_version`` is not higher than ``current.version``.
    """
    if current is None or parse_version(new_version) > parse_version(current.version):
        return
    raise OntologyVersionError(
        f"the ontology content changed but its version {new_version} is not above "
        f"{current.version}, the version the store holds",
        hint=(
            f"Set `version: {bump_patch(current.version)}` (or a higher minor/major) in the "
            "manifest (ontology/ontology.yaml) and load again."
        ),
        store_version=current.version,
        ontology_version=new_version,
    )


def diff_ontologies(old: Ontology | None, new: Ontology) -> Diff:
    """Return which concepts were added, removed or changed (and which of their members)."""
    before = {c.id: c.to_data() for c in old} if old is not None else {}
    after = {c.id: c.to_data() for c in new}
    changed: dict[str, tuple[str, ...]] = {}
    for concept_id in sorted(before.keys() & after.keys()):
        a, b = before[concept_id], after[concept_id]
        members = tuple(sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k)))
        if members:
            changed[concept_id] = members
    return Diff(
        added=tuple(sorted(after.keys() - before.keys())),
        removed=tuple(sorted(before.keys() - after.keys())),
        changed=changed,
    )


def current_version(store: GraphStore) -> VersionRecord | None:
    """Return the version record of the ontology the store holds, or ``None``."""
    raw = store.get_meta(VERSION_KEY)
    return VersionRecord.model_validate_json(raw) if raw else None


def audit_trail(store: GraphStore) -> list[VersionRecord]:
    """Return every version record the store keeps, oldest first."""
    raw = store.get_meta(AUDIT_KEY)
    return [VersionRecord.model_validate(item) for item in json.loads(raw)] if raw else []


def stored_ontology(store: GraphStore) -> Ontology | None:
    """Return the ontology content the store holds (from ``ontology.content``), or ``None``."""
    raw = store.get_meta(CONTENT_KEY)
    if not raw:
        return None
    data = json.loads(raw)
    concepts = [(item, NOWHERE) for item in data.get("concepts", [])]
    return build_ontology([(data["ontology"], NOWHERE)], concepts)


def record_version(store: GraphStore, record: VersionRecord, ontology: Ontology) -> None:
    """Store ``record`` as the current version, append it to the audit trail, keep the content.

    The version key is written last: a load interrupted before it is simply redone.
    """
    trail = [r.model_dump(mode="json") for r in audit_trail(store)]
    entry = record.model_dump(mode="json")
    last = trail[-1] if trail else None
    if last and (last["version"], last["content_hash"]) == (record.version, record.content_hash):
        trail[-1] = entry  # an interrupted earlier attempt at the same version
    else:
        trail.append(entry)
    store.set_meta(CONTENT_KEY, canonical_json(ontology.to_data()))
    store.set_meta(AUDIT_KEY, json.dumps(trail, ensure_ascii=False, sort_keys=True))
    store.set_meta(VERSION_KEY, json.dumps(entry, ensure_ascii=False, sort_keys=True))
