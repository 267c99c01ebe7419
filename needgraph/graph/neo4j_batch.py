"""Neo4j side of :meth:`GraphStore.write_batch`: one checked batch in one managed transaction.

The caller (:class:`~needgraph.graph.neo4j.Neo4jStore`) runs :func:`write` under
``execute_write``; anything raised rolls the whole batch back (the driver retries transient
failures). Statements are ``UNWIND`` batches of at most :data:`CHUNK` rows; all Cypher comes
from :mod:`needgraph.graph.cypher`.

Latest-wins relationships (:mod:`needgraph.graph.batch`) take one of three paths:

* start nodes with no relationship of the type yet (a first load): nothing to replace or
  guard, so the edges are CREATEd, grouped per start node (about twice as fast as MERGE);
* edges with a group: unless the group holds a newer relationship, its others are deleted
  and the edge MERGEd (one statement);
* edges without a group: a MERGE whose properties are set only when not older.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from needgraph.errors import NodeNotFoundError
from needgraph.graph import cypher
from needgraph.graph.batch import OBSERVED_AT, LatestEdge, WriteBatch
from needgraph.graph.records import Node, Relationship

if TYPE_CHECKING:
    from neo4j import ManagedTransaction

CHUNK = 10_000
Row = dict[str, Any]


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


def write(tx: ManagedTransaction, batch: WriteBatch) -> None:
    """Write ``batch`` (already checked) in ``tx``: nodes, latest-wins, plain, metadata."""
    _nodes(tx, batch.nodes)
    shapes: dict[tuple[str, str], list[LatestEdge]] = defaultdict(list)
    for edge in batch.latest:
        shapes[(edge.type, edge.start.label)].append(edge)
    for (rel_type, start_label), edges in shapes.items():
        _latest(tx, rel_type, start_label, edges)
    _relationships(tx, batch.relationships)
    if batch.meta:  # one statement (a round trip) for all: an event writes four entries
        rows = [{"name": name, "value": value} for name, value in batch.meta.items()]
        tx.run(cypher.SET_META_ROWS, rows=rows).consume()


def _nodes(tx: ManagedTransaction, nodes: list[Node]) -> None:
    by_label: dict[str, list[Row]] = defaultdict(list)
    for node in nodes:
        by_label[node.label].append({"key": node.key, "props": node.props})
    for label, rows in by_label.items():
        for chunk in _chunks(rows):
            tx.run(cypher.upsert_nodes(label), rows=chunk).consume()


def _relationships(tx: ManagedTransaction, rels: list[Relationship]) -> None:
    shapes: dict[tuple[str, str, str], list[Row]] = defaultdict(list)
    for rel in rels:
        shapes[(rel.type, rel.start.label, rel.end.label)].append(
            {"start": rel.start.key, "end": rel.end.key, "props": rel.props})
    for (rel_type, start_label, end_label), rows in shapes.items():
        query = cypher.upsert_relationships(rel_type, start_label, end_label)
        for chunk in _chunks(rows):
            _expect(tx, query, chunk, len(chunk), start_label, end_label)


def _latest(tx: ManagedTransaction, rel_type: str, start_label: str,
            edges: list[LatestEdge]) -> None:
    """Latest-wins upserts of one relationship type from one start label."""
    starts = sorted({e.start.key for e in edges})
    having: set[str] = set()
    for chunk in _chunks(starts):
        having.update(r["key"] for r in tx.run(cypher.starts_having(rel_type, start_label),
                                                keys=chunk))
    # start nodes without the type yet: per end label, start key -> (end keys, their props)
    fresh: dict[str, dict[str, tuple[list[str], list[Any]]]] = defaultdict(dict)
    grouped: dict[str, list[Row]] = defaultdict(list)
    exact: dict[str, list[Row]] = defaultdict(list)
    last: tuple[str, str] | None = None  # (start key, end label) of the run being filed
    ends: list[str] = []
    props: list[Any] = []
    for edge in edges:
        start, end = edge.start.key, edge.end
        if start not in having:
            if last is None or start is not last[0] or end.label is not last[1]:
                last = (start, end.label)
                ends, props = fresh[end.label].setdefault(start, ([], []))
            ends.append(end.key)
            props.append(edge.props)
            continue
        when = edge.props.get(OBSERVED_AT) or ""
        if edge.group is None:
            exact[end.label].append(
                {"start": start, "end": end.key, "t": when, "props": edge.props})
        else:
            grouped[end.label].append({"start": start, "end": end.key, "group": edge.group,
                                       "t": when, "props": edge.props})
    for end_label, per_start in fresh.items():
        _create(tx, rel_type, start_label, end_label, per_start)
    for end_label, rows in grouped.items():
        upsert = cypher.upsert_latest_in_group(rel_type, start_label, end_label)
        for chunk in _chunks(rows):
            _expect(tx, upsert, chunk, len(chunk), start_label, end_label)
    for end_label, rows in exact.items():
        upsert = cypher.upsert_latest(rel_type, start_label, end_label)
        for chunk in _chunks(rows):
            _expect(tx, upsert, chunk, len(chunk), start_label, end_label)


def _create(tx: ManagedTransaction, rel_type: str, start_label: str, end_label: str,
            per_start: dict[str, tuple[list[str], list[Any]]]) -> None:
    """CREATE the edges of start nodes that have none of the type, ~:data:`CHUNK` per statement."""
    query = cypher.create_relationships(rel_type, start_label, end_label)
    rows: list[Row] = []
    size = 0
    for start, (ends, props) in per_start.items():
        rows.append({"start": start, "ends": ends, "props": props})
        size += len(ends)
        if size >= CHUNK:
            _expect(tx, query, rows, size, start_label, end_label, nested=True)
            rows, size = [], 0
    if rows:
        _expect(tx, query, rows, size, start_label, end_label, nested=True)


def _expect(tx: ManagedTransaction, query: str, rows: list[Row], expected: int,
            start_label: str, end_label: str, nested: bool = False) -> None:
    """Run ``query``; when it wrote fewer than ``expected``, name the missing endpoint.

    ``nested``: rows are ``{start, ends: [key], ...}`` rather than ``{start, end, ...}``.
    """
    written = tx.run(query, rows=rows).single(strict=True)["written"]
    if written < expected:
        if nested:
            rows = [{"start": row["start"], "end": key} for row in rows for key in row["ends"]]
        raise_missing(tx, start_label, end_label, rows)


def raise_missing(tx: ManagedTransaction, start_label: str, end_label: str,
                  rows: list[Row]) -> None:
    """Raise :class:`NodeNotFoundError` naming the first missing endpoint (rolls the batch back).

    Args:
        tx: The batch's transaction.
        start_label: Label of every start node.
        end_label: Label of every end node.
        rows: ``{start, end}`` keys of the relationships that were to be written.
    """
    for label, side in ((start_label, "start"), (end_label, "end")):
        keys = list(dict.fromkeys(row[side] for row in rows))
        missing = [r["key"] for r in tx.run(cypher.missing_keys(label), keys=keys)]
        if missing:
            raise NodeNotFoundError(
                f"relationship endpoint ({label} {missing[0]!r}) does not exist",
                hint="Upsert the node before relationships that use it.",
                missing=json.dumps(missing[:10], ensure_ascii=False),
            )
    raise NodeNotFoundError("a relationship endpoint does not exist")
