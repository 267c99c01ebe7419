"""Load an ontology into a graph store, through the public ``GraphStore`` API only.

A load writes every concept and tag bin as a node and every relation as a relationship, removes
ontology relationships the new content no longer has, and records a version (see
:mod:`needgraph.ontology.versioning`). Loading the content the store already holds does nothing.

Concepts (and tag bins) that are in the store but not in the new content are never dropped
silently: each is reported, and

* deleted when no customer data uses it (no ``HAS_TAG``, ``MENTIONS``, ``OF_STRATEGY``,
  ``MEMBER_OF``, ``RATED`` ... relationship), or
* kept, marked ``deprecated = true`` and ``removed_in = <version>``, when customer data still
  uses it (``deprecate``/``merge`` it onto a surviving concept to move that data).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from needgraph.graph.base import GraphStore
from needgraph.graph.records import Node, NodeRef, Properties, Relationship
from needgraph.ontology.core import Ontology
from needgraph.ontology.graph_form import (
    ONTOLOGY_REL_TYPES,
    data_rel_types,
    ontology_nodes,
    ontology_relationships,
)
from needgraph.ontology.model import KINDS, TAG_BIN
from needgraph.ontology.validate import ensure_valid
from needgraph.ontology.versioning import (
    Operation,
    VersionRecord,
    check_version_bump,
    current_version,
    diff_ontologies,
    record_version,
    stored_ontology,
    utc_now,
)

SCRATCH_KEY = "~ontology-scratch"
"""Key of the transient node stale relationships are moved onto, then deleted with."""


@dataclass(frozen=True)
class LoadReport:
    """What a load did.

    Attributes:
        changed: Whether the store changed (``False``: it already held this content).
        version: Version the store holds afterwards.
        content_hash: Content hash the store holds afterwards.
        record: The new version record (``None`` when nothing changed).
        nodes_written: Concept and tag-bin nodes written.
        relationships_written: Ontology relationships written.
        relationships_removed: Ontology relationships removed (gone from the content).
        deleted: Keys of nodes gone from the content and deleted (no customer data used them).
        kept: Keys of nodes gone from the content but kept (customer data uses them).
    """

    changed: bool
    version: str
    content_hash: str
    record: VersionRecord | None = None
    nodes_written: int = 0
    relationships_written: int = 0
    relationships_removed: int = 0
    deleted: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()


def in_use(store: GraphStore, ref: NodeRef) -> bool:
    """Return whether any customer-data relationship touches the node ``ref``."""
    types = data_rel_types(store.schema)
    return bool(store.neighbourhood(ref, hops=1, rel_types=types, limit=1).relationships)


def _retire_missing(
    store: GraphStore, nodes: Iterable[Node], version: str
) -> tuple[list[str], list[str]]:
    wanted = {(n.label, n.key) for n in nodes}
    gone: list[Node] = []
    for label in (*KINDS, TAG_BIN):
        for batch in store.iter_nodes(label):
            gone.extend(n for n in batch if (label, n.key) not in wanted)
    used = {n.ref for n in gone if n.key != SCRATCH_KEY and in_use(store, n.ref)}
    used_tags = {ref.key.split("=", 1)[0] for ref in used if ref.label == TAG_BIN}
    used |= {n.ref for n in gone if n.label == "Tag" and n.key in used_tags}
    deleted, kept = [], []
    for node in gone:
        if node.ref not in used:
            store.delete_node(node.ref)
            if node.key != SCRATCH_KEY:
                deleted.append(node.key)
            continue
        kept.append(node.key)
        if "removed_in" not in node.props:
            marks: Properties = {"deprecated": True, "removed_in": version}
            store.upsert_nodes([Node(node.label, node.key, marks)])
    return sorted(deleted), sorted(kept)


def _purge_stale(store: GraphStore, wanted: Iterable[Relationship]) -> int:
    """Remove ontology relationships not in ``wanted``; return how many went.

    The store API has no relationship delete, so the stale type is moved off the node onto a
    scratch node (``relink``) that is then deleted; the wanted ones are written again after.
    """
    keep = {(r.type, r.start, r.end) for r in wanted}
    stale: dict[tuple[NodeRef, str], int] = {}
    for rel_type in sorted(ONTOLOGY_REL_TYPES & set(store.schema.relationships)):
        for batch in store.iter_relationships(rel_type):
            for rel in batch:
                if (rel.type, rel.start, rel.end) not in keep:
                    stale[(rel.start, rel.type)] = stale.get((rel.start, rel.type), 0) + 1
    for (ref, rel_type), _count in sorted(stale.items(), key=lambda item: str(item[0])):
        scratch = NodeRef(ref.label, SCRATCH_KEY)
        store.upsert_nodes([Node(scratch.label, scratch.key, {})])
        store.relink(ref, scratch, [rel_type])
        store.delete_node(scratch)
    return sum(stale.values())


def load_into_store(
    ontology: Ontology,
    store: GraphStore,
    *,
    who: str,
    why: str,
    operation: Operation = "load",
    details: dict[str, str | int | list[str]] | None = None,
) -> LoadReport:
    """Write ``ontology`` into ``store`` and record the new version.

    Args:
        ontology: A valid ontology.
        store: Any graph store; ``setup_schema`` is called first.
        who: Who loads it (kept in the audit trail).
        why: Why (kept in the audit trail).
        operation: What the change is (``deprecate``/``merge`` pass their own).
        details: Extra members of the version record.

    Returns:
        What was done; ``changed`` is ``False`` when the store already held this content.

    Raises:
        OntologyValidationError: The ontology has problems (every one is listed).
        OntologyVersionError: The content changed but the version is not above the store's.
    """
    ensure_valid(ontology)
    store.setup_schema()
    current = current_version(store)
    content_hash = ontology.content_hash()
    if current is not None and current.content_hash == content_hash:
        return LoadReport(changed=False, version=current.version, content_hash=content_hash)
    version = ontology.manifest.version
    check_version_bump(current, version)
    previous = stored_ontology(store)
    nodes = ontology_nodes(ontology)
    relationships = ontology_relationships(ontology)
    written = store.upsert_nodes(nodes)
    deleted, kept = _retire_missing(store, nodes, version)
    removed = _purge_stale(store, relationships)
    linked = store.upsert_relationships(relationships)
    record = VersionRecord(
        version=version,
        previous_version=current.version if current else None,
        content_hash=content_hash,
        who=who,
        when=utc_now(),
        why=why,
        operation=operation,
        diff=diff_ontologies(previous, ontology),
        details={**(details or {}), **({"kept": kept} if kept else {})},
    )
    record_version(store, record, ontology)
    return LoadReport(
        changed=True,
        version=version,
        content_hash=content_hash,
        record=record,
        nodes_written=written,
        relationships_written=linked,
        relationships_removed=removed,
        deleted=tuple(deleted),
        kept=tuple(kept),
    )
