"""Write one batch of customer records to a store in a single transaction, checkpoint included.

A batch holds nodes (customers, utterances, offers), plain relationships (upserts), tag edges
and ratings (which follow "latest observation wins"), and the job's checkpoint. The writer puts
all of it in one transaction, nodes first: a batch is committed whole, with its checkpoint, or
not at all, so a job killed at any instant resumes exactly after its last committed batch.

Latest observation wins (``docs/graph-model.md``): a customer has at most one ``HAS_TAG`` per
tag and one ``RATED`` per domain. A new observation replaces the old edge (the edge to the old
bin is deleted) unless the old one is newer (``observed_at`` decides; equal or missing times:
the later row wins).

The public :class:`~needgraph.graph.base.GraphStore` API has no relationship delete and no
multi-statement transaction, so each backend has its writer here, working on the store's own
connection with the same tables (SQLite) or Cypher shapes (Neo4j) the store uses; every record
still passes the store's schema checks first.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from needgraph.errors import NodeNotFoundError
from needgraph.graph.base import GraphStore
from needgraph.graph.records import Node, NodeRef, Properties, Relationship
from needgraph.ingest.errors import UnsupportedStoreError

if TYPE_CHECKING:
    from neo4j import ManagedTransaction

    from needgraph.graph.neo4j import Neo4jStore
    from needgraph.graph.sqlite import SqliteStore

_SQL_CHUNK = 500
_CYPHER_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class TagEdge:
    """A ``HAS_TAG`` edge subject to latest-wins: customer -> ``<tag>=<bin>``."""

    customer: str
    bin_key: str
    value: str | float
    observed_at: str | None

    @property
    def tag_prefix(self) -> str:
        """``<tag id>=``: the key prefix every bin of this tag shares."""
        return self.bin_key.split("=", 1)[0] + "="

    def props(self) -> Properties:
        """Edge properties."""
        return {"value": self.value, "observed_at": self.observed_at}

    def props_json(self) -> str:
        """Edge properties as compact JSON (the hot path of a tag load)."""
        value = repr(self.value) if isinstance(self.value, float) else json.dumps(
            self.value, ensure_ascii=False)
        when = "null" if self.observed_at is None else f'"{self.observed_at}"'
        return f'{{"value":{value},"observed_at":{when}}}'


@dataclass(frozen=True, slots=True)
class RatingEdge:
    """A ``RATED`` edge subject to latest-wins: customer -> domain."""

    customer: str
    domain: str
    score: float
    observed_at: str | None

    def props(self) -> Properties:
        """Edge properties."""
        return {"score": self.score, "observed_at": self.observed_at,
                "dissatisfied": self.score <= 2}


@dataclass
class GraphBatch:
    """Everything one batch writes, plus the checkpoint committed with it."""

    nodes: list[Node] = field(default_factory=list)
    tag_edges: list[TagEdge] = field(default_factory=list)
    ratings: list[RatingEdge] = field(default_factory=list)
    rels: list[Relationship] = field(default_factory=list)
    checkpoint: tuple[str, str] | None = None

    def check(self, store: GraphStore) -> None:
        """Run the store's schema checks on every record (one sample of each edge family)."""
        for node in self.nodes:
            store.schema.check_node(node)
        for rel in self.rels:
            store.schema.check_relationship(rel)
        if self.tag_edges:
            edge = self.tag_edges[0]
            store.schema.check_relationship(Relationship(
                "HAS_TAG", NodeRef("Customer", edge.customer), NodeRef("TagBin", edge.bin_key),
                edge.props()))
        if self.ratings:
            rating = self.ratings[0]
            store.schema.check_relationship(Relationship(
                "RATED", NodeRef("Customer", rating.customer), NodeRef("Domain", rating.domain),
                rating.props()))


def newer_or_equal(new: str | None, old: str | None) -> bool:
    """Whether an observation at ``new`` replaces one at ``old`` (ISO strings; None is oldest)."""
    return (new or "") >= (old or "")


class BatchWriter(ABC):
    """Writes :class:`GraphBatch` objects to one store."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def write(self, batch: GraphBatch) -> None:
        """Check, then write ``batch`` in one transaction."""
        batch.check(self.store)
        self._write(batch)

    @abstractmethod
    def _write(self, batch: GraphBatch) -> None: ...


def writer_for(store: GraphStore) -> BatchWriter:
    """Return the batch writer of the store's backend.

    Raises:
        UnsupportedStoreError: The backend has no writer.
    """
    if store.backend == "sqlite":
        return SqliteBatchWriter(store)
    if store.backend == "neo4j":
        return Neo4jBatchWriter(store)
    raise UnsupportedStoreError(f"ingest has no batch writer for store backend {store.backend!r}")


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _dumps(props: Properties) -> str:
    return json.dumps(props, ensure_ascii=False, separators=(",", ":"))


class SqliteBatchWriter(BatchWriter):
    """One ``BEGIN IMMEDIATE`` … ``COMMIT`` per batch on the store's SQLite connection."""

    def __init__(self, store: GraphStore) -> None:
        super().__init__(store)
        self._sqlite: SqliteStore = store  # type: ignore[assignment]
        self._db = self._sqlite._db
        self._lock = self._sqlite._lock

    def _write(self, batch: GraphBatch) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._nodes(batch.nodes)
                ids = self._ids(batch)
                self._tag_edges(batch.tag_edges, ids)
                self._ratings(batch.ratings, ids)
                self._rels(batch.rels, ids)
                if batch.checkpoint is not None:
                    self._db.execute(
                        "INSERT INTO meta (name, value) VALUES (?, ?) "
                        "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                        batch.checkpoint,
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _nodes(self, nodes: list[Node]) -> None:
        self._db.executemany(
            "INSERT INTO nodes (label, key, props) VALUES (?1, ?2, json_patch('{}', ?3)) "
            "ON CONFLICT (label, key) DO UPDATE SET props = json_patch(props, ?3)",
            [(n.label, n.key, _dumps(n.props)) for n in nodes],
        )

    def _ids(self, batch: GraphBatch) -> dict[tuple[str, str], int]:
        wanted: dict[str, set[str]] = defaultdict(set)
        for edge in batch.tag_edges:
            wanted["Customer"].add(edge.customer)
            wanted["TagBin"].add(edge.bin_key)
        for rating in batch.ratings:
            wanted["Customer"].add(rating.customer)
            wanted["Domain"].add(rating.domain)
        for rel in batch.rels:
            wanted[rel.start.label].add(rel.start.key)
            wanted[rel.end.label].add(rel.end.key)
        ids: dict[tuple[str, str], int] = {}
        for label, keys in wanted.items():
            ordered = sorted(keys)
            for chunk in _chunks(ordered, _SQL_CHUNK):
                marks = ",".join("?" * len(chunk))
                for key, row_id in self._db.execute(
                    f"SELECT key, id FROM nodes WHERE label = ? AND key IN ({marks})",
                    [label, *chunk],
                ):
                    ids[(label, key)] = row_id
            for key in ordered:
                if (label, key) not in ids:
                    raise NodeNotFoundError(
                        f"relationship endpoint ({label} {key!r}) does not exist",
                        hint="Load the ontology first: needgraph ontology load",
                    )
        return ids

    def _existing(self, rel_type: str, sources: list[int]) -> list[tuple[int, int, int, str, Any]]:
        """``(rel id, src, dst, dst key, observed_at)`` of ``rel_type`` edges from ``sources``."""
        found: list[tuple[int, int, int, str, Any]] = []
        for chunk in _chunks(sources, _SQL_CHUNK):
            marks = ",".join("?" * len(chunk))
            found.extend(self._db.execute(
                "SELECT r.id, r.src, r.dst, n.key, json_extract(r.props, '$.observed_at') "
                f"FROM rels r JOIN nodes n ON n.id = r.dst WHERE r.type = ? AND r.src IN ({marks})",
                [rel_type, *chunk],
            ))
        return found

    def _tag_edges(self, edges: list[TagEdge], ids: dict[tuple[str, str], int]) -> None:
        if not edges:
            return
        sources = sorted({ids[("Customer", e.customer)] for e in edges})
        current: dict[tuple[int, str], list[tuple[int, int, Any]]] = defaultdict(list)
        for rel_id, src, dst, key, observed in self._existing("HAS_TAG", sources):
            current[(src, key.split("=", 1)[0] + "=")].append((rel_id, dst, observed))
        stale: list[tuple[int]] = []
        rows: list[tuple[str, int, int, str]] = []
        for edge in edges:
            src, dst = ids[("Customer", edge.customer)], ids[("TagBin", edge.bin_key)]
            olds = current.get((src, edge.tag_prefix), [])
            if any(not newer_or_equal(edge.observed_at, observed) for _, _, observed in olds):
                continue
            stale.extend((rel_id,) for rel_id, old_dst, _ in olds if old_dst != dst)
            rows.append(("HAS_TAG", src, dst, edge.props_json()))
        self._db.executemany("DELETE FROM rels WHERE id = ?", stale)
        self._upsert_rows(rows)

    def _ratings(self, ratings: list[RatingEdge], ids: dict[tuple[str, str], int]) -> None:
        if not ratings:
            return
        sources = sorted({ids[("Customer", r.customer)] for r in ratings})
        current = {(src, dst): observed
                   for _, src, dst, _, observed in self._existing("RATED", sources)}
        rows = []
        for rating in ratings:
            src, dst = ids[("Customer", rating.customer)], ids[("Domain", rating.domain)]
            if (src, dst) in current and not newer_or_equal(rating.observed_at,
                                                            current[(src, dst)]):
                continue
            rows.append(("RATED", src, dst, _dumps(rating.props())))
        self._upsert_rows(rows)

    def _rels(self, rels: list[Relationship], ids: dict[tuple[str, str], int]) -> None:
        self._upsert_rows([
            (r.type, ids[(r.start.label, r.start.key)], ids[(r.end.label, r.end.key)],
             _dumps(r.props))
            for r in rels
        ])

    def _upsert_rows(self, rows: list[tuple[str, int, int, str]]) -> None:
        self._db.executemany(
            "INSERT INTO rels (type, src, dst, props) VALUES (?1, ?2, ?3, json_patch('{}', ?4)) "
            "ON CONFLICT (type, src, dst) DO UPDATE SET props = json_patch(props, ?4)",
            rows,
        )


_TAGGED_CUSTOMERS = (
    "UNWIND $keys AS k MATCH (c:Customer {key: k}) "
    "WHERE EXISTS { (c)-[:HAS_TAG]->(:TagBin) } RETURN k AS key"
)
# Customers without any HAS_TAG yet: one row per customer, edges CREATEd (the batch holds one
# edge per customer and tag, so nothing can exist twice); ~2x faster than MERGE per edge.
_TAG_FRESH = (
    "UNWIND $rows AS row "
    "MATCH (c:Customer {key: row.c}) UNWIND row.tags AS t MATCH (b:TagBin {key: t.b}) "
    "CREATE (c)-[:HAS_TAG {value: t.v, observed_at: t.o}]->(b) "
    "RETURN count(*) AS written"
)
_TAG_DELETE_STALE = (
    "UNWIND $rows AS row "
    "MATCH (c:Customer {key: row.c})-[old:HAS_TAG]->(ob:TagBin) "
    "WHERE ob.key STARTS WITH row.p AND ob.key <> row.b "
    "AND coalesce(old.observed_at, '') <= row.t "
    "DELETE old"
)
_TAG_GUARDED = (
    "UNWIND $rows AS row "
    "MATCH (c:Customer {key: row.c}) MATCH (b:TagBin {key: row.b}) "
    "OPTIONAL MATCH (c)-[o:HAS_TAG]->(x:TagBin) "
    "WHERE x.key STARTS WITH row.p AND coalesce(o.observed_at, '') > row.t "
    "WITH c, b, row, count(o) AS newer "
    "CALL (c, b, row, newer) { WITH * WHERE newer = 0 "
    "  MERGE (c)-[r:HAS_TAG]->(b) SET r.value = row.v, r.observed_at = row.o } "
    "RETURN count(*) AS written"
)
_RATED = (
    "UNWIND $rows AS row "
    "MATCH (c:Customer {key: row.c}) MATCH (d:Domain {key: row.d}) "
    "MERGE (c)-[r:RATED]->(d) "
    "WITH r, row, (r.observed_at IS NULL OR coalesce(row.o, '') >= r.observed_at) AS newer "
    "CALL (r, row, newer) { WITH * WHERE newer SET r += row.props } "
    "RETURN count(*) AS written"
)


class Neo4jBatchWriter(BatchWriter):
    """One managed write transaction per batch (the driver retries transient failures)."""

    def __init__(self, store: GraphStore) -> None:
        super().__init__(store)
        self._neo: Neo4jStore = store  # type: ignore[assignment]

    def _write(self, batch: GraphBatch) -> None:
        def work(tx: ManagedTransaction) -> None:
            self._nodes(tx, batch.nodes)
            self._tag_edges(tx, batch.tag_edges)
            self._ratings(tx, batch.ratings)
            self._rels(tx, batch.rels)
            if batch.checkpoint is not None:
                from needgraph.graph import cypher

                name, value = batch.checkpoint
                tx.run(cypher.SET_META, name=name, value=value).consume()

        with self._neo._driver.session(database=self._neo.database,
                                       notifications_min_severity="OFF") as session:
            session.execute_write(work)

    @staticmethod
    def _expect(tx: ManagedTransaction, query: str, rows: Sequence[dict[str, Any]],
                what: str, expected: int | None = None) -> None:
        written = tx.run(query, rows=list(rows)).single(strict=True)["written"]
        wanted = len(rows) if expected is None else expected
        if written < wanted:
            raise NodeNotFoundError(
                f"{wanted - written} {what} name(s) a node that does not exist",
                hint="Load the ontology first: needgraph ontology load",
            )

    def _nodes(self, tx: ManagedTransaction, nodes: list[Node]) -> None:
        from needgraph.graph import cypher

        by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for node in nodes:
            by_label[node.label].append({"key": node.key, "props": node.props})
        for label, rows in by_label.items():
            for chunk in _chunks(rows, _CYPHER_CHUNK):
                tx.run(cypher.upsert_nodes(label), rows=list(chunk)).consume()

    def _tag_edges(self, tx: ManagedTransaction, edges: list[TagEdge]) -> None:
        if not edges:
            return
        customers = sorted({e.customer for e in edges})
        tagged: set[str] = set()
        for chunk in _chunks(customers, _CYPHER_CHUNK):
            tagged.update(r["key"] for r in tx.run(_TAGGED_CUSTOMERS, keys=list(chunk)))
        fresh: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for e in edges:
            if e.customer not in tagged:
                fresh[e.customer].append({"b": e.bin_key, "v": e.value, "o": e.observed_at})
        known = [{"c": e.customer, "b": e.bin_key, "v": e.value, "o": e.observed_at,
                  "p": e.tag_prefix, "t": e.observed_at or ""}
                 for e in edges if e.customer in tagged]
        rows: list[dict[str, Any]] = []
        size = 0
        for customer, tags in fresh.items():
            rows.append({"c": customer, "tags": tags})
            size += len(tags)
            if size >= _CYPHER_CHUNK:
                self._expect(tx, _TAG_FRESH, rows, "tag edge(s)", size)
                rows, size = [], 0
        if rows:
            self._expect(tx, _TAG_FRESH, rows, "tag edge(s)", size)
        for chunk in _chunks(known, _CYPHER_CHUNK):
            tx.run(_TAG_DELETE_STALE, rows=list(chunk)).consume()
            self._expect(tx, _TAG_GUARDED, chunk, "tag edge(s)")

    def _ratings(self, tx: ManagedTransaction, ratings: list[RatingEdge]) -> None:
        rows = [{"c": r.customer, "d": r.domain, "o": r.observed_at, "props": r.props()}
                for r in ratings]
        for chunk in _chunks(rows, _CYPHER_CHUNK):
            self._expect(tx, _RATED, chunk, "rating(s)")

    def _rels(self, tx: ManagedTransaction, rels: list[Relationship]) -> None:
        from needgraph.graph import cypher

        shapes: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for rel in rels:
            shapes[(rel.type, rel.start.label, rel.end.label)].append(
                {"start": rel.start.key, "end": rel.end.key, "props": rel.props})
        for (rel_type, start, end), rows in shapes.items():
            query = cypher.upsert_relationships(rel_type, start, end)
            for chunk in _chunks(rows, _CYPHER_CHUNK):
                self._expect(tx, query, chunk, f"{rel_type} relationship(s)")
