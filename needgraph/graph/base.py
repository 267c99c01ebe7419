"""The one graph store interface every backend implements.

Public methods validate their input against the :class:`GraphSchema` and then call an
``_``-prefixed hook that each backend implements (the pattern of PyG's ``GraphStore``). A write
batch is atomic: it is written whole or not at all.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from types import TracebackType
from typing import ClassVar, Self

from needgraph.errors import NodeNotFoundError, SchemaViolationError
from needgraph.graph.batch import LatestEdge, WriteBatch, reduce_latest
from needgraph.graph.columns import RelationshipColumns, check_property_names, to_columns
from needgraph.graph.records import (
    Direction,
    GraphCounts,
    Node,
    NodeRef,
    Outgoing,
    Path,
    PathStep,
    Relationship,
    Subgraph,
)
from needgraph.graph.schema import GraphSchema, check_key
from needgraph.graph.tokens import WRITE_TOKEN_META, WriteTokens, fresh_token

__all__ = ["WRITE_TOKEN_META", "GraphStore", "batched"]

DEFAULT_BATCH_SIZE = 5_000
MAX_HOPS = 4
_DIRECTIONS = ("out", "in", "both")


def batched(items: Iterable[object], size: int) -> Iterator[list[object]]:
    """Yield lists of at most ``size`` items from ``items``."""
    batch: list[object] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class GraphStore(WriteTokens, ABC):
    """A property graph of needgraph's nodes and relationships.

    Args:
        schema: The allow-list of labels and relationship types (normally
            :data:`needgraph.ontology.graph_schema.GRAPH_SCHEMA`).
    """

    backend: ClassVar[str]

    def __init__(self, schema: GraphSchema) -> None:
        self.schema = schema

    # -- lifecycle -------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None:
        """Release connections and file handles."""

    @abstractmethod
    def ping(self) -> None:
        """Raise :class:`~needgraph.errors.StoreUnavailableError` unless the store answers."""

    @abstractmethod
    def describe(self) -> str:
        """A one-line description of where the data lives (no secrets)."""

    def identity(self) -> str:
        """Where the data lives, the same in every process that opens it (no secrets).

        Keys caches of data derived from the store (with :meth:`write_token`).
        """
        return self.describe()

    def setup_schema(self) -> None:
        """Create constraints and indexes for every label (idempotent; call before loading)."""
        self._setup_schema()

    def clear(self) -> None:
        """Delete every node, relationship and metadata entry (a fresh write token follows)."""
        with self._writing():
            self._clear()

    # -- writes ----------------------------------------------------------------------------
    def upsert_nodes(self, nodes: Iterable[Node], batch_size: int = DEFAULT_BATCH_SIZE) -> int:
        """Create or update nodes by ``(label, key)``; properties are merged, ``None`` removes one.

        Args:
            nodes: Nodes to write; within a batch a later duplicate wins.
            batch_size: Nodes per transaction.

        Returns:
            Number of node records written.
        """
        _check_batch_size(batch_size)
        written = 0
        with self._writing():
            for batch in batched(nodes, batch_size):
                typed = [n for n in batch if isinstance(n, Node)]
                if len(typed) != len(batch):
                    raise SchemaViolationError("upsert_nodes takes Node records")
                for node in typed:
                    self.schema.check_node(node)
                self._upsert_nodes(typed)
                written += len(typed)
        return written

    def upsert_relationships(
        self, relationships: Iterable[Relationship], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> int:
        """Create or update relationships by ``(type, start, end)``; properties are merged.

        Both endpoints must exist; otherwise the batch is refused whole with
        :class:`~needgraph.errors.NodeNotFoundError` naming the first missing node.

        Returns:
            Number of relationship records written.
        """
        _check_batch_size(batch_size)
        written = 0
        with self._writing():
            for batch in batched(relationships, batch_size):
                typed = [r for r in batch if isinstance(r, Relationship)]
                if len(typed) != len(batch):
                    raise SchemaViolationError("upsert_relationships takes Relationship records")
                for rel in typed:
                    self.schema.check_relationship(rel)
                self._upsert_relationships(typed)
                written += len(typed)
        return written

    def write_batch(self, batch: WriteBatch) -> None:
        """Commit a whole :class:`~needgraph.graph.batch.WriteBatch` in one transaction.

        In order: node upserts, latest-wins relationship upserts (see
        :mod:`needgraph.graph.batch` for the rule), plain relationship upserts, metadata
        entries. Every record passes the schema checks first; the batch is committed whole or
        not at all: a missing endpoint raises :class:`~needgraph.errors.NodeNotFoundError`
        naming it and nothing of the batch, its metadata included, is written.
        """
        if not isinstance(batch, WriteBatch):
            raise SchemaViolationError("write_batch takes a WriteBatch")
        self.schema.check_nodes(batch.nodes)
        self.schema.check_relationships(batch.relationships)
        if any(isinstance(rel, LatestEdge) for rel in batch.relationships):
            raise SchemaViolationError("latest-wins edges belong in WriteBatch.latest")
        latest = reduce_latest(batch.latest)
        self.schema.check_relationships(latest)
        for name, value in batch.meta.items():
            if not isinstance(name, str) or not name or not isinstance(value, str):
                raise SchemaViolationError(
                    f"metadata entries are non-empty names with string values, got {name!r}")
        meta = {**batch.meta, WRITE_TOKEN_META: fresh_token()}  # same transaction as the data
        self._write_batch(WriteBatch(list(batch.nodes), list(batch.relationships), latest, meta))

    def delete_node(self, ref: NodeRef) -> bool:
        """Delete a node and all its relationships. Returns whether it existed."""
        self._check_ref(ref)
        with self._writing():
            return self._delete_node(ref)

    def relink(
        self, source: NodeRef, target: NodeRef, rel_types: Sequence[str] | None = None
    ) -> int:
        """Move relationships of ``source`` (of ``rel_types``, or all) onto ``target``.

        A relationship the target already has keeps the target's properties, completed by the
        source's. Relationships between source and target are left alone. Nothing is lost:
        every moved relationship exists on the target afterwards.

        Returns:
            Number of relationships moved.
        """
        with self._writing():
            return self._checked_relink(source, target, rel_types)

    def _checked_relink(
        self, source: NodeRef, target: NodeRef, rel_types: Sequence[str] | None
    ) -> int:
        self._check_ref(source)
        self._check_ref(target)
        if source == target:
            raise SchemaViolationError(f"cannot relink {source} onto itself")
        for rel_type in rel_types or ():
            self.schema.check_type(rel_type)
        for ref in (source, target):
            if self.get_node(ref) is None:
                raise NodeNotFoundError(f"node {ref} does not exist")
        return self._relink(source, target, list(rel_types) if rel_types else None)

    def merge_nodes(self, source: NodeRef, target: NodeRef) -> int:
        """Move every relationship of ``source`` onto ``target``, then delete ``source``.

        Returns:
            Number of relationships moved.
        """
        with self._writing():
            moved = self._checked_relink(source, target, None)
            self._delete_node(source)
        return moved

    def set_meta(self, name: str, value: str) -> None:
        """Store a metadata string (e.g. the ontology version) under ``name``."""
        if not name:
            raise SchemaViolationError("metadata name must be non-empty")
        self._set_meta(name, value)

    def get_meta(self, name: str) -> str | None:
        """Return the metadata string stored under ``name``, or ``None``."""
        return self._get_meta(name)

    # -- reads -----------------------------------------------------------------------------
    def get_node(self, ref: NodeRef) -> Node | None:
        """Return the node with this identity, or ``None``."""
        self._check_ref(ref)
        found = self._get_nodes(ref.label, [ref.key])
        return found.get(ref.key)

    def get_nodes(self, label: str, keys: Sequence[str]) -> dict[str, Node]:
        """Return the existing nodes among ``keys`` of ``label``, by key."""
        self.schema.check_label(label)
        return self._get_nodes(label, list(dict.fromkeys(keys)))

    def get_relationships(
        self, start: NodeRef, rel_type: str, end_label: str, end_keys: Sequence[str]
    ) -> dict[str, Relationship]:
        """Return ``start``'s ``rel_type`` relationships to the ``end_label`` nodes ``end_keys``.

        A point read (one indexed lookup per end node), for callers that know which
        relationships they want: an explanation quoting a customer's values of 3 tag bins out
        of the customer's ~170 ``HAS_TAG`` relationships.

        Args:
            start: The node the relationships leave.
            rel_type: Relationship type.
            end_label: Label of the nodes they reach.
            end_keys: Keys of the wanted end nodes; missing ones are left out.

        Returns:
            The existing relationships, by end node key.
        """
        self._check_ref(start)
        self.schema.check_type(rel_type)
        self.schema.check_label(end_label)
        keys = list(dict.fromkeys(end_keys))
        return self._get_relationships(start, rel_type, end_label, keys) if keys else {}

    def outgoing(
        self,
        starts: Sequence[NodeRef],
        rel_types: Sequence[str],
        end_props: Sequence[str] = (),
    ) -> Outgoing:
        """Return the ``rel_types`` relationships leaving ``starts``, in one read.

        For callers that need a node's relationships but the properties of only some of the
        nodes they reach: re-reading a customer's star (:mod:`needgraph.reasoning.live_star`)
        needs its ~180 ``HAS_TAG`` relationships with their values and the properties of its
        few utterances and offers, never those of the tag bins. A 2-hop
        :meth:`neighbourhood` read all of them and looked for more relationships beyond every
        tag bin.

        Args:
            starts: The nodes whose relationships to read; one that does not exist has none.
            rel_types: Relationship types to follow (at least one).
            end_props: Labels whose end nodes come back with their properties in ``ends``.

        Returns:
            The relationships (in the store's order: the embedded store's is the order they
            were written) and the end nodes of the ``end_props`` labels.
        """
        if not rel_types:
            raise SchemaViolationError("outgoing needs at least one relationship type")
        for ref in starts:
            self._check_ref(ref)
        for rel_type in rel_types:
            self.schema.check_type(rel_type)
        for label in end_props:
            self.schema.check_label(label)
        refs = list(dict.fromkeys(starts))
        if not refs:
            return Outgoing(())
        return self._outgoing(refs, list(dict.fromkeys(rel_types)), list(dict.fromkeys(end_props)))

    def neighbourhood(
        self,
        centre: NodeRef,
        hops: int = 1,
        node_labels: Sequence[str] | None = None,
        rel_types: Sequence[str] | None = None,
        direction: Direction = "both",
        limit: int = 1_000,
    ) -> Subgraph:
        """Return the k-hop neighbourhood of ``centre``, breadth first.

        Args:
            centre: The node to start from; it must exist.
            hops: Number of hops, 1 to 4.
            node_labels: Only reach (and pass through) nodes of these labels; all when ``None``.
            rel_types: Only follow these relationship types; all when ``None``.
            direction: Follow relationships ``out`` of, ``in`` to, or ``both`` ways.
            limit: Maximum number of nodes returned besides the centre.

        Returns:
            The centre, the reached nodes and the relationships followed.
        """
        self._check_ref(centre)
        if not 1 <= hops <= MAX_HOPS:
            raise SchemaViolationError(f"hops must be between 1 and {MAX_HOPS}, got {hops}")
        if direction not in _DIRECTIONS:
            raise SchemaViolationError(f"direction must be one of {_DIRECTIONS}, got {direction!r}")
        if limit < 1:
            raise SchemaViolationError(f"limit must be positive, got {limit}")
        for label in node_labels or ():
            self.schema.check_label(label)
        for rel_type in rel_types or ():
            self.schema.check_type(rel_type)
        start = self.get_node(centre)
        if start is None:
            raise NodeNotFoundError(f"node {centre} does not exist")
        labels = list(node_labels) if node_labels else None
        types = list(rel_types) if rel_types else None
        seen: dict[NodeRef, Node] = {centre: start}
        rels: dict[tuple[str, NodeRef, NodeRef], Relationship] = {}
        frontier = [centre]
        for _ in range(hops):
            if not frontier or len(seen) > limit:
                break
            budget = limit + 1 - len(seen)
            reached = self._expand(frontier, types, labels, direction, budget + len(rels) + 1)
            next_frontier: list[NodeRef] = []
            for rel, node in reached:
                if node.ref not in seen:
                    if len(seen) > limit:
                        continue
                    seen[node.ref] = node
                    next_frontier.append(node.ref)
                rels[(rel.type, rel.start, rel.end)] = rel
            frontier = next_frontier
        kept = {ref for ref in seen}
        return Subgraph(
            centre=centre,
            nodes=tuple(n for ref, n in seen.items() if ref != centre),
            relationships=tuple(r for r in rels.values() if r.start in kept and r.end in kept),
        )

    def paths(
        self,
        start: NodeRef,
        steps: Sequence[PathStep],
        end: NodeRef | None = None,
        limit: int = 100,
    ) -> list[Path]:
        """Return walks from ``start`` that follow ``steps`` in order (to ``end`` if given).

        Args:
            start: First node of every path.
            steps: One relationship type and direction per hop (1 to 6 hops).
            end: Last node of every path, or ``None`` for any.
            limit: Maximum number of paths.

        Returns:
            Paths, each using a relationship at most once.
        """
        self._check_ref(start)
        if end is not None:
            self._check_ref(end)
        if not 1 <= len(steps) <= 6:
            raise SchemaViolationError(f"a path pattern has 1 to 6 steps, got {len(steps)}")
        for step in steps:
            self.schema.check_type(step.type)
            if step.direction not in _DIRECTIONS:
                raise SchemaViolationError(
                    f"step direction must be one of {_DIRECTIONS}, got {step.direction!r}"
                )
        if limit < 1:
            raise SchemaViolationError(f"limit must be positive, got {limit}")
        return self._paths(start, list(steps), end, limit)

    def counts(self) -> GraphCounts:
        """Node counts by label and relationship counts by type (labels/types with none omitted)."""
        return self._counts()

    def iter_nodes(self, label: str, batch_size: int = 10_000) -> Iterator[list[Node]]:
        """Stream every node of ``label`` in batches (for export to the GNN)."""
        self.schema.check_label(label)
        _check_batch_size(batch_size)
        return self._iter_nodes(label, batch_size)

    def iter_relationships(
        self, rel_type: str, batch_size: int = 10_000
    ) -> Iterator[list[Relationship]]:
        """Stream every relationship of ``rel_type`` in batches (for export to the GNN)."""
        self.schema.check_type(rel_type)
        _check_batch_size(batch_size)
        return self._iter_relationships(rel_type, batch_size)

    def iter_relationship_columns(
        self, rel_type: str, props: Sequence[str] = (), batch_size: int = 10_000
    ) -> Iterator[RelationshipColumns]:
        """Stream every relationship of ``rel_type`` column-wise (the export's bulk path).

        Args:
            rel_type: Relationship type.
            props: Property names whose values to return (the rest are not decoded).
            batch_size: Relationships per batch, about.

        Returns:
            Batches of one ``(start label, end label)`` pair each, with endpoint keys and the
            requested property values; every relationship appears exactly once.
        """
        self.schema.check_type(rel_type)
        _check_batch_size(batch_size)
        names = check_property_names(props)
        return self._iter_relationship_columns(rel_type, names, batch_size)

    # -- helpers ---------------------------------------------------------------------------
    def _check_ref(self, ref: NodeRef) -> None:
        self.schema.check_label(ref.label)
        check_key(ref)

    # -- hooks each backend implements ---------------------------------------------------
    @abstractmethod
    def _setup_schema(self) -> None: ...

    @abstractmethod
    def _clear(self) -> None: ...

    @abstractmethod
    def _upsert_nodes(self, nodes: list[Node]) -> None: ...

    @abstractmethod
    def _upsert_relationships(self, rels: list[Relationship]) -> None: ...

    @abstractmethod
    def _write_batch(self, batch: WriteBatch) -> None:
        """Write a checked batch in one transaction (all or nothing).

        ``batch.latest`` holds at most one edge per group and start node, and at most one per
        ``(type, start, end)``; each edge's ``observed_at`` is a string or absent.
        """

    @abstractmethod
    def _delete_node(self, ref: NodeRef) -> bool: ...

    @abstractmethod
    def _relink(self, source: NodeRef, target: NodeRef, rel_types: list[str] | None) -> int: ...

    @abstractmethod
    def _set_meta(self, name: str, value: str) -> None: ...

    @abstractmethod
    def _get_meta(self, name: str) -> str | None: ...

    @abstractmethod
    def _get_nodes(self, label: str, keys: list[str]) -> dict[str, Node]: ...

    @abstractmethod
    def _get_relationships(
        self, start: NodeRef, rel_type: str, end_label: str, end_keys: list[str]
    ) -> dict[str, Relationship]: ...

    @abstractmethod
    def _outgoing(
        self, starts: list[NodeRef], rel_types: list[str], end_props: list[str]
    ) -> Outgoing:
        """Relationships of ``rel_types`` leaving ``starts``; ends of ``end_props`` labels."""

    @abstractmethod
    def _expand(
        self,
        frontier: list[NodeRef],
        rel_types: list[str] | None,
        node_labels: list[str] | None,
        direction: Direction,
        limit: int,
    ) -> list[tuple[Relationship, Node]]:
        """Relationships from frontier nodes, each with the node at its other end."""

    @abstractmethod
    def _paths(
        self, start: NodeRef, steps: list[PathStep], end: NodeRef | None, limit: int
    ) -> list[Path]: ...

    @abstractmethod
    def _counts(self) -> GraphCounts: ...

    @abstractmethod
    def _iter_nodes(self, label: str, batch_size: int) -> Iterator[list[Node]]: ...

    @abstractmethod
    def _iter_relationships(
        self, rel_type: str, batch_size: int
    ) -> Iterator[list[Relationship]]: ...

    def _iter_relationship_columns(
        self, rel_type: str, props: tuple[str, ...], batch_size: int
    ) -> Iterator[RelationshipColumns]:
        """Generic column batches from ``_iter_relationships`` (backends override it)."""
        return to_columns(self._iter_relationships(rel_type, batch_size), props)


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise SchemaViolationError(f"batch_size must be positive, got {batch_size}")
