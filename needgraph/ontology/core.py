"""The :class:`Ontology`: a manifest plus concepts, with relations and a content hash."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from needgraph.graph.records import Properties
from needgraph.ontology.model import TAG_BIN, Concept, Manifest, bin_key
from needgraph.ontology.problems import NOWHERE, Location, Problem

Relation: TypeAlias = tuple[str, str, str, Properties]
"""``(source id, relationship type, target id, properties)``; tag bins are ``<tag>=<bin>``."""


@dataclass(frozen=True)
class Provenance:
    """Where an ontology was read from, and what went wrong while reading it.

    Attributes:
        root: The folder or file that was read, or ``None`` when built in code.
        files: Every file that was read, as displayed in problems.
        manifest: Location of the manifest.
        problems: Problems found while reading (syntax, unknown members, bad values).
        unparsed_ids: Ids of concepts that could not be read (references to them are not
            reported again as dangling).
    """

    root: str | None = None
    files: tuple[str, ...] = ()
    manifest: Location = NOWHERE
    problems: tuple[Problem, ...] = ()
    unparsed_ids: frozenset[str] = field(default_factory=frozenset)


def canonical_json(data: Any) -> str:
    """Serialise ``data`` canonically: sorted keys, no spaces, UTF-8 text kept as is."""
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class Ontology:
    """A set of concepts with a manifest.

    Concepts are listed in the order they were read (duplicates included, so validation can
    report them); lookups by id see the first concept with that id. Equality compares content
    (manifest and concepts), never file layout.

    Args:
        manifest: Name and version.
        concepts: Concepts, each optionally paired with the location it was read from.
        provenance: Where the ontology was read from.
    """

    def __init__(
        self,
        manifest: Manifest,
        concepts: Iterable[Concept | tuple[Concept, Location]] = (),
        provenance: Provenance | None = None,
    ) -> None:
        self.manifest = manifest
        self.provenance = provenance or Provenance()
        self.entries: tuple[tuple[Concept, Location], ...] = tuple(
            item if isinstance(item, tuple) else (item, NOWHERE) for item in concepts
        )
        self._by_id: dict[str, tuple[Concept, Location]] = {}
        for concept, where in self.entries:
            self._by_id.setdefault(concept.id, (concept, where))
        # An ontology never changes once built (edits make a new one, :meth:`replace`), so the
        # sorted concepts and each kind's are computed once: a recommendation reads the
        # strategies on every call.
        self._sorted = [self._by_id[cid][0] for cid in sorted(self._by_id)]
        self._kinds: dict[str, list[Concept]] = {}
        for concept in self._sorted:
            self._kinds.setdefault(concept.kind, []).append(concept)

    # -- access ----------------------------------------------------------------------------
    def __contains__(self, concept_id: object) -> bool:
        return concept_id in self._by_id

    def __getitem__(self, concept_id: str) -> Concept:
        return self._by_id[concept_id][0]

    def __iter__(self) -> Iterator[Concept]:
        """Iterate over concepts sorted by id."""
        return iter(self._sorted)

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, concept_id: str) -> Concept | None:
        """Return the concept with this id, or ``None``."""
        found = self._by_id.get(concept_id)
        return found[0] if found else None

    def location(self, concept_id: str) -> Location:
        """Return where the concept was read from (``NOWHERE`` when unknown)."""
        found = self._by_id.get(concept_id)
        return found[1] if found else NOWHERE

    @property
    def concepts(self) -> dict[str, Concept]:
        """Concepts by id, sorted by id."""
        return {concept.id: concept for concept in self}

    def by_kind(self, kind: str) -> list[Concept]:
        """Return the concepts of ``kind`` (e.g. ``"Need"``), sorted by id."""
        return list(self._kinds.get(kind, ()))

    def counts(self) -> dict[str, int]:
        """Return the number of concepts per kind (kinds with none left out)."""
        result: dict[str, int] = {}
        for concept in self:
            result[concept.kind] = result.get(concept.kind, 0) + 1
        return result

    def label_of(self, node_id: str) -> str:
        """Return the graph label of a concept id or tag-bin key (``<tag>=<bin>``)."""
        if "=" in node_id:
            return TAG_BIN
        return self[node_id].kind

    # -- graph form ------------------------------------------------------------------------
    def relations(self) -> list[Relation]:
        """Return every relation as ``(source id, TYPE, target id, props)``, sorted.

        Types follow the graph form of ``docs/ontology-format.md``: ``AFFECTS``, ``BLOCKS``,
        ``CONCERNS``, ``INDICATES`` (from each ``when`` bin, with ``weight``), ``ADDRESSES``,
        ``RESOLVES``, ``SUB_TAG_OF``, ``DERIVED_FROM``, ``BIN_OF``, ``BROADER``, ``REPLACED_BY``.
        """
        found: dict[tuple[str, str, str], Properties] = {}
        for concept in self:
            for _member, rel_type, target, _kind in concept.references():
                if rel_type != "INDICATES":
                    found[(concept.id, rel_type, target)] = {}
            for tag_bin in concept.bins:
                found[(bin_key(concept.id, tag_bin.id), "BIN_OF", concept.id)] = {}
            for indication in concept.indicates:
                for bin_id in indication.when:
                    key = (bin_key(concept.id, bin_id), "INDICATES", indication.cause)
                    found[key] = {"weight": indication.weight}
        return [(s, t, e, dict(props)) for (s, t, e), props in sorted(found.items())]

    # -- content ---------------------------------------------------------------------------
    def to_data(self) -> dict[str, Any]:
        """Return the whole ontology as plain data: manifest, then concepts sorted by id."""
        return {
            "ontology": self.manifest.to_data(),
            "concepts": [concept.to_data() for concept in self],
        }

    def content_hash(self) -> str:
        """Return the sha256 (hex) of the canonical JSON of the content.

        The content is the concepts and the languages; the manifest's name and version are
        not part of it, so bumping the version alone does not change the hash. File layout,
        key order and the order of set-like lists do not matter.
        """
        content = {
            "languages": list(self.manifest.languages),
            "default_language": self.manifest.default_language,
            "concepts": [concept.to_data() for concept in self],
        }
        return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Ontology):
            return NotImplemented
        return self.to_data() == other.to_data() and len(self.entries) == len(other.entries)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Ontology({self.manifest.name!r} {self.manifest.version}, {len(self)} concepts)"

    def replace(
        self, *, manifest: Manifest | None = None, concepts: Sequence[Concept] | None = None
    ) -> Ontology:
        """Return a copy with a new manifest and/or concepts; known concepts keep their location.

        Args:
            manifest: The new manifest (unchanged when ``None``).
            concepts: The new concepts (unchanged when ``None``).
        """
        new_concepts = list(self) if concepts is None else list(concepts)
        return Ontology(
            manifest or self.manifest,
            [(c, self.location(c.id)) for c in new_concepts],
            Provenance(
                root=self.provenance.root,
                files=self.provenance.files,
                manifest=self.provenance.manifest,
            ),
        )
