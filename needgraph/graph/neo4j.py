"""Neo4j 5 backend through the official ``neo4j`` driver.

Writes run as managed transactions (``execute_write``), so the driver retries transient
failures; every batch is one ``UNWIND`` statement per label or relationship shape. Single reads
are auto-committed (one round trip) and run again as managed transactions when the server asks
for a retry. Routing URIs (``neo4j://``) work unchanged against a cluster. All Cypher lives in
:mod:`needgraph.graph.cypher`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import repeat
from typing import TYPE_CHECKING, Any

from needgraph.errors import StoreUnavailableError
from needgraph.graph import cypher, neo4j_batch
from needgraph.graph.base import GraphStore
from needgraph.graph.batch import WriteBatch
from needgraph.graph.columns import RelationshipColumns
from needgraph.graph.records import (
    Direction,
    GraphCounts,
    Node,
    NodeRef,
    Outgoing,
    Path,
    PathStep,
    Relationship,
)
from needgraph.graph.schema import GraphSchema

if TYPE_CHECKING:
    from neo4j import Driver, ManagedTransaction


class Neo4jStore(GraphStore):
    """Graph store in a Neo4j 5 database.

    Args:
        uri: ``bolt://``, ``neo4j://`` (routing) or their ``+s`` variants.
        username: Neo4j user.
        password: Neo4j password.
        database: Database name (``neo4j`` by default).
        schema: Allow-list of labels and relationship types.
    """

    backend = "neo4j"

    def __init__(
        self,
        uri: str,
        *,
        username: str,
        password: str,
        database: str = "neo4j",
        schema: GraphSchema,
    ) -> None:
        super().__init__(schema)
        try:
            import neo4j
        except ImportError as exc:  # pragma: no cover - core dependency
            raise StoreUnavailableError(
                "the neo4j driver is not installed", hint="pip install 'neo4j>=5.28'"
            ) from exc
        self.uri = uri
        self.database = database
        self._driver: Driver = neo4j.GraphDatabase.driver(
            uri,
            auth=(username, password),
            max_connection_pool_size=32,
            notifications_min_severity="OFF",  # counts over unused types warn; not news
        )

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Close the driver and its connection pool."""
        self._driver.close()

    def ping(self) -> None:
        """Raise :class:`StoreUnavailableError` unless Neo4j answers and accepts the login."""
        from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

        try:
            self._driver.verify_connectivity()
            self._read(cypher.PING)
        except AuthError as exc:
            raise StoreUnavailableError(
                f"Neo4j at {self.uri} refused the login: {exc.message}",
                hint="Check NEO4J_USERNAME and NEO4J_PASSWORD.",
            ) from exc
        except (ServiceUnavailable, Neo4jError, OSError) as exc:
            raise StoreUnavailableError(f"Neo4j at {self.uri} does not answer: {exc}") from exc

    def describe(self) -> str:
        """URI and database (no credentials)."""
        return f"{self.uri} (database {self.database})"

    # The queries of _write and _read RETURN scalars, lists and maps (``properties(n)``), never
    # nodes, relationships or paths, so a row is ``dict(record)``: ``Record.data()`` would walk
    # every value to convert graph entities there are none of (a third of a star read's time).
    def _write(self, query: str, **params: Any) -> list[dict[str, Any]]:
        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            return [dict(record) for record in tx.run(query, params)]

        with self._driver.session(database=self.database) as session:
            return session.execute_write(work)

    def _read(self, query: str, **params: Any) -> list[dict[str, Any]]:
        """One read-only statement, auto-committed; again in a managed transaction on failure.

        An auto-commit read is one round trip (``RUN`` + ``PULL``); a managed transaction adds
        ``COMMIT``: at 100k customers every API answer reads the write token first, and the
        managed read cost 0.6 ms of client CPU and ~1 ms of the answer thread's time against
        0.3 ms and about half (``bench/RESULTS.md``). When the server asks for a retry (a
        transient error, a lost or moved connection) the read runs again as a managed
        transaction, which the driver retries.
        """
        from neo4j import READ_ACCESS
        from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError

        def work(tx: ManagedTransaction) -> list[dict[str, Any]]:
            return [dict(record) for record in tx.run(query, params)]

        try:
            with self._driver.session(database=self.database,
                                      default_access_mode=READ_ACCESS) as session:
                return [dict(record) for record in session.run(query, params)]
        except (TransientError, SessionExpired, ServiceUnavailable):
            with self._driver.session(database=self.database) as session:
                return session.execute_read(work)

    def _setup_schema(self) -> None:
        with self._driver.session(database=self.database) as session:
            session.run(cypher.META_CONSTRAINT).consume()
            for label in self.schema.labels:
                session.run(cypher.key_constraint(label)).consume()
            session.run(cypher.AWAIT_INDEXES).consume()

    def _clear(self) -> None:
        with self._driver.session(database=self.database) as session:
            session.run(cypher.CLEAR_BATCHED).consume()

    # -- writes ----------------------------------------------------------------------------
    def _upsert_nodes(self, nodes: list[Node]) -> None:
        by_label: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for node in nodes:
            by_label[node.label].append({"key": node.key, "props": node.props})

        def work(tx: ManagedTransaction) -> None:
            for label, rows in by_label.items():
                tx.run(cypher.upsert_nodes(label), rows=rows).consume()

        with self._driver.session(database=self.database) as session:
            session.execute_write(work)

    def _upsert_relationships(self, rels: list[Relationship]) -> None:
        shapes: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        for rel in rels:
            shapes[(rel.type, rel.start.label, rel.end.label)].append(
                {"start": rel.start.key, "end": rel.end.key, "props": rel.props}
            )

        def work(tx: ManagedTransaction) -> None:
            for (rel_type, start_label, end_label), rows in shapes.items():
                query = cypher.upsert_relationships(rel_type, start_label, end_label)
                written = tx.run(query, rows=rows).single(strict=True)["written"]
                if written < len(rows):
                    neo4j_batch.raise_missing(tx, start_label, end_label, rows)

        with self._driver.session(database=self.database) as session:
            session.execute_write(work)

    def _write_batch(self, batch: WriteBatch) -> None:
        with self._driver.session(database=self.database) as session:
            session.execute_write(neo4j_batch.write, batch)

    def _delete_node(self, ref: NodeRef) -> bool:
        rows = self._write(cypher.delete_node(ref.label), key=ref.key)
        return bool(rows and rows[0]["deleted"])

    def _relink(self, source: NodeRef, target: NodeRef, rel_types: list[str] | None) -> int:
        types = rel_types or list(self.schema.relationships)

        def work(tx: ManagedTransaction) -> int:
            moved = 0
            for rel_type in types:
                for outgoing in (True, False):
                    query = cypher.relink(source.label, target.label, rel_type, outgoing)
                    record = tx.run(query, source=source.key, target=target.key).single()
                    moved += int(record["moved"]) if record else 0
            return moved

        with self._driver.session(database=self.database) as session:
            return session.execute_write(work)

    def _set_meta(self, name: str, value: str) -> None:
        self._write(cypher.SET_META, name=name, value=value)

    def _get_meta(self, name: str) -> str | None:
        rows = self._read(cypher.GET_META, name=name)
        return str(rows[0]["value"]) if rows else None

    # -- reads -----------------------------------------------------------------------------
    def _get_nodes(self, label: str, keys: list[str]) -> dict[str, Node]:
        rows = self._read(cypher.get_nodes(label), keys=keys)
        return {row["key"]: Node(label, row["key"], _props(row["props"])) for row in rows}

    def _get_relationships(
        self, start: NodeRef, rel_type: str, end_label: str, end_keys: list[str]
    ) -> dict[str, Relationship]:
        query = cypher.get_relationships(start.label, rel_type, end_label)
        rows = self._read(query, key=start.key, keys=end_keys)
        return {
            row["key"]: Relationship(
                rel_type, start, NodeRef(end_label, row["key"]), _props(row["props"])
            )
            for row in rows
        }

    def _label_of(self, labels: list[str]) -> str:
        for label in labels:
            if label in self.schema.labels:
                return label
        raise StoreUnavailableError(f"node with labels {labels} is outside the graph schema")

    def _outgoing(
        self, starts: list[NodeRef], rel_types: list[str], end_props: list[str]
    ) -> Outgoing:
        by_label: dict[str, list[str]] = defaultdict(list)
        for ref in starts:
            by_label[ref.label].append(ref.key)
        rels: list[Relationship] = []
        ends: dict[NodeRef, Node] = {}
        for label, keys in by_label.items():
            here = {key: NodeRef(label, key) for key in keys}
            rows = self._read(cypher.outgoing(label), keys=keys, types=rel_types,
                              with_props=end_props)
            for row in rows:
                end = NodeRef(self._label_of(row["labels"]), row["key"])
                rels.append(Relationship(row["type"], here[row["here"]], end,
                                         _props(row["rprops"])))
                if row["props"] is not None:
                    ends[end] = Node(end.label, end.key, _props(row["props"]))
        return Outgoing(tuple(rels), ends)

    def _expand(
        self,
        frontier: list[NodeRef],
        rel_types: list[str] | None,
        node_labels: list[str] | None,
        direction: Direction,
        limit: int,
    ) -> list[tuple[Relationship, Node]]:
        by_label: dict[str, list[str]] = defaultdict(list)
        for ref in frontier:
            by_label[ref.label].append(ref.key)
        found: list[tuple[Relationship, Node]] = []
        for label, keys in by_label.items():
            rows = self._read(
                cypher.expand(label, direction),
                keys=keys,
                types=rel_types,
                labels=node_labels,
                limit=limit - len(found),
            )
            for row in rows:
                node = Node(self._label_of(row["labels"]), row["key"], _props(row["props"]))
                here = NodeRef(label, row["here"])
                start, end = (here, node.ref) if row["outgoing"] else (node.ref, here)
                found.append((Relationship(row["type"], start, end, _props(row["rprops"])), node))
            if len(found) >= limit:
                break
        return found

    def _paths(
        self, start: NodeRef, steps: list[PathStep], end: NodeRef | None, limit: int
    ) -> list[Path]:
        query = cypher.path_pattern(start.label, tuple(steps), end is not None)
        params: dict[str, Any] = {"start": start.key, "limit": limit}
        if end is not None:
            params |= {"end_key": end.key, "end_label": end.label}

        def work(tx: ManagedTransaction) -> list[Path]:
            return [self._to_path(record["p"]) for record in tx.run(query, params)]

        with self._driver.session(database=self.database) as session:
            return session.execute_read(work)

    def _to_path(self, raw: Any) -> Path:
        nodes = tuple(
            Node(self._label_of(list(n.labels)), n["key"], _props(dict(n))) for n in raw.nodes
        )
        by_id = {n.element_id: node.ref for n, node in zip(raw.nodes, nodes, strict=True)}
        rels = tuple(
            Relationship(
                r.type,
                by_id[r.start_node.element_id],
                by_id[r.end_node.element_id],
                _props(dict(r)),
            )
            for r in raw.relationships
        )
        return Path(nodes, rels)

    def _counts(self) -> GraphCounts:
        nodes = {}
        for label in self.schema.labels:
            n = self._read(cypher.count_label(label))[0]["n"]
            if n:
                nodes[label] = int(n)
        rels = {}
        for rel_type in self.schema.relationships:
            n = self._read(cypher.count_type(rel_type))[0]["n"]
            if n:
                rels[rel_type] = int(n)
        return GraphCounts(nodes=nodes, relationships=rels)

    def _iter_nodes(self, label: str, batch_size: int) -> Iterator[list[Node]]:
        after = ""
        while True:
            rows = self._read(cypher.page_nodes(label), after=after, limit=batch_size)
            if not rows:
                return
            after = rows[-1]["key"]
            yield [Node(label, row["key"], _props(row["props"])) for row in rows]

    def _iter_relationships(self, rel_type: str, batch_size: int) -> Iterator[list[Relationship]]:
        spec = self.schema.check_type(rel_type)
        pending: list[Relationship] = []
        for start_label in sorted(spec.start_labels):
            after = ""
            while True:
                rows = self._read(
                    cypher.page_relationships(rel_type, start_label), after=after, limit=batch_size
                )
                page_end = self._read(cypher.page_keys(start_label), after=after, limit=batch_size)
                if not page_end:
                    break
                after = page_end[-1]["key"]
                for row in rows:
                    end = NodeRef(self._label_of(row["labels"]), row["end"])
                    pending.append(
                        Relationship(
                            rel_type, NodeRef(start_label, row["start"]), end, _props(row["props"])
                        )
                    )
                while len(pending) >= batch_size:
                    yield pending[:batch_size]
                    pending = pending[batch_size:]
        if pending:
            yield pending

    def _iter_relationship_columns(
        self, rel_type: str, props: tuple[str, ...], batch_size: int
    ) -> Iterator[RelationshipColumns]:
        """Pages of start nodes (keys only) per label pair; one aggregated row per start node."""
        spec = self.schema.check_type(rel_type)
        page = max(1, min(batch_size, _START_PAGE))
        for start_label in sorted(spec.start_labels):
            for end_label in sorted(spec.end_labels):
                query = cypher.relationship_columns(rel_type, start_label, end_label, props)
                starts = cypher.page_keys(start_label)
                after = ""
                while True:
                    keys = [row["key"] for row in self._read(starts, after=after, limit=page)]
                    if not keys:
                        break
                    after = keys[-1]
                    cols = RelationshipColumns(
                        rel_type, start_label, end_label, [], [], {p: [] for p in props}
                    )
                    for row in self._read(query, keys=keys):
                        rels = row["rels"]
                        cols.start_keys.extend(repeat(row["start"], len(rels)))
                        cols.end_keys.extend(item[0] for item in rels)
                        for i, p in enumerate(props, start=1):
                            cols.props[p].extend(item[i] for item in rels)
                    if len(cols):
                        yield cols


#: Start nodes per round trip of the column export (a customer has ~200 HAS_TAG edges).
_START_PAGE = 2_000


def _props(raw: dict[str, Any]) -> dict[str, Any]:
    """Driver property map → needgraph properties (drops the key, lists stay lists)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in raw.items() if k != "key"}
