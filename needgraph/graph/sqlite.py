"""Embedded graph store on SQLite (standard library), the default backend.

Why SQLite: it ships with Python, keeps data in one file, survives crashes (WAL journal), and its
B-tree indexes answer the store's access paths (by key, by endpoint, by type) without a server.
Nodes and relationships are rows; properties are JSON documents merged with ``json_patch``
(RFC 7396: a ``null`` member removes a property), so upserts are single statements.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from needgraph.errors import NodeNotFoundError, StoreUnavailableError
from needgraph.graph import sqlite_batch, sqlite_columns
from needgraph.graph.base import GraphStore
from needgraph.graph.batch import WriteBatch
from needgraph.graph.columns import RelationshipColumns
from needgraph.graph.records import (
    Direction,
    GraphCounts,
    Node,
    NodeRef,
    Outgoing,
    PathStep,
    Properties,
    Relationship,
)
from needgraph.graph.records import (
    Path as GraphPath,
)
from needgraph.graph.schema import GraphSchema
from needgraph.graph.sqlite_wal import WalCheckpointer

_DDL = """
CREATE TABLE IF NOT EXISTS nodes (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL,
    key TEXT NOT NULL,
    props TEXT NOT NULL DEFAULT '{}',
    UNIQUE (label, key)
);
CREATE TABLE IF NOT EXISTS rels (
    id INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    src INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    dst INTEGER NOT NULL REFERENCES nodes(id) ON DELETE CASCADE,
    props TEXT NOT NULL DEFAULT '{}',
    UNIQUE (type, src, dst)
);
CREATE INDEX IF NOT EXISTS rels_by_src ON rels (src, type);
CREATE INDEX IF NOT EXISTS rels_by_dst ON rels (dst, type);
-- (type) and (label) indexes end in the implicit rowid, so streaming exports page with a range seek
CREATE INDEX IF NOT EXISTS rels_by_type ON rels (type);
CREATE INDEX IF NOT EXISTS nodes_by_label ON nodes (label);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_CHUNK = 500  # bound on host parameters per IN (...) list


def _dumps(props: Properties) -> str:
    return json.dumps(props, ensure_ascii=False, separators=(",", ":"))


def _chunks(items: list[str], size: int = _CHUNK) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class SqliteStore(GraphStore):
    """Graph store in one SQLite file.

    The write-ahead log is copied back into the file by a background thread
    (:class:`~needgraph.graph.sqlite_wal.WalCheckpointer`), never inside a write.

    Args:
        path: Database file; parent folders are created. ``":memory:"`` for a throwaway store.
        schema: Allow-list of labels and relationship types.
    """

    backend = "sqlite"

    def __init__(self, path: str | Path, schema: GraphSchema) -> None:
        super().__init__(schema)
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"cannot open SQLite store at {self.path}: {exc}") from exc
        self._lock = threading.RLock()
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA cache_size=-65536")
        self._db.executescript(_DDL)
        self._wal = None if self.path == ":memory:" else WalCheckpointer(self, self._db, self.path)

    # -- lifecycle -------------------------------------------------------------------------
    def close(self) -> None:
        """Stop the WAL checkpointer and close the database file."""
        if self._wal is not None:
            self._wal.stop()
        with self._lock:
            self._db.close()

    def ping(self) -> None:
        """Raise :class:`StoreUnavailableError` if the file cannot be read."""
        try:
            with self._lock:
                self._db.execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"SQLite store {self.path} does not answer: {exc}") from exc

    def describe(self) -> str:
        """The database file."""
        return f"sqlite:///{self.path}"

    def identity(self) -> str:
        """The database file's absolute, resolved path (``:memory:`` stays as it is)."""
        if self.path == ":memory:":
            return f"sqlite:///:memory:#{id(self)}"
        return f"sqlite:///{Path(self.path).resolve()}"

    def _setup_schema(self) -> None:
        with self._lock:
            self._db.executescript(_DDL)

    def _clear(self) -> None:
        with self._lock, self._tx():
            self._db.execute("DELETE FROM rels")
            self._db.execute("DELETE FROM nodes")
            self._db.execute("DELETE FROM meta")

    def _tx(self) -> _Transaction:
        return _Transaction(self._db)

    # -- writes ----------------------------------------------------------------------------
    def _upsert_nodes(self, nodes: list[Node]) -> None:
        rows = [(n.label, n.key, _dumps(n.props)) for n in nodes]
        with self._lock, self._tx():
            self._db.executemany(
                "INSERT INTO nodes (label, key, props) VALUES (?1, ?2, json_patch('{}', ?3)) "
                "ON CONFLICT (label, key) DO UPDATE SET props = json_patch(props, ?3)",
                rows,
            )

    def _upsert_relationships(self, rels: list[Relationship]) -> None:
        with self._lock, self._tx():
            ids = self._resolve_ids([r.start for r in rels] + [r.end for r in rels])
            rows = [(r.type, ids[r.start], ids[r.end], _dumps(r.props)) for r in rels]
            self._db.executemany(
                "INSERT INTO rels (type, src, dst, props) "
                "VALUES (?1, ?2, ?3, json_patch('{}', ?4)) "
                "ON CONFLICT (type, src, dst) DO UPDATE SET props = json_patch(props, ?4)",
                rows,
            )

    def _write_batch(self, batch: WriteBatch) -> None:
        with self._lock, self._tx():
            sqlite_batch.write(self._db, batch)

    def _resolve_ids(self, refs: list[NodeRef]) -> dict[NodeRef, int]:
        """Map node identities to row ids; raise :class:`NodeNotFoundError` for a missing one."""
        by_label: dict[str, list[str]] = {}
        for ref in dict.fromkeys(refs):
            by_label.setdefault(ref.label, []).append(ref.key)
        found: dict[NodeRef, int] = {}
        for label, keys in by_label.items():
            for chunk in _chunks(keys):
                marks = ",".join("?" * len(chunk))
                cursor = self._db.execute(
                    f"SELECT key, id FROM nodes WHERE label = ? AND key IN ({marks})",
                    [label, *chunk],
                )
                found.update((NodeRef(label, key), row_id) for key, row_id in cursor)
        for ref in refs:
            if ref not in found:
                raise NodeNotFoundError(
                    f"relationship endpoint {ref} does not exist",
                    hint="Upsert the node before relationships that use it.",
                )
        return found

    def _delete_node(self, ref: NodeRef) -> bool:
        with self._lock, self._tx():
            cursor = self._db.execute(
                "DELETE FROM nodes WHERE label = ? AND key = ?", (ref.label, ref.key)
            )
            return cursor.rowcount > 0

    def _relink(self, source: NodeRef, target: NodeRef, rel_types: list[str] | None) -> int:
        with self._lock, self._tx():
            ids = self._resolve_ids([source, target])
            src, dst = ids[source], ids[target]
            type_filter, type_params = "", []
            if rel_types:
                type_filter = f" AND type IN ({','.join('?' * len(rel_types))})"
                type_params = list(rel_types)
            moved = 0
            for mine, other in (("src", "dst"), ("dst", "src")):
                # through the node's own index: given one type, the planner scanned every
                # relationship of the type (each concept of an ontology load relinks one)
                table = f"rels INDEXED BY rels_by_{mine}"
                where = f"{mine} = ? AND {other} != ?{type_filter}"
                params = [src, dst, *type_params]
                moved += self._db.execute(
                    f"INSERT INTO rels (type, {mine}, {other}, props) "
                    f"SELECT type, ?, {other}, props FROM {table} WHERE {where} "
                    "ON CONFLICT (type, src, dst) DO UPDATE "
                    "SET props = json_patch(excluded.props, rels.props)",
                    [dst, *params],
                ).rowcount
                self._db.execute(f"DELETE FROM {table} WHERE {where}", params)
            return moved

    def _set_meta(self, name: str, value: str) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO meta (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )

    def _get_meta(self, name: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    # -- reads -----------------------------------------------------------------------------
    def _get_nodes(self, label: str, keys: list[str]) -> dict[str, Node]:
        found: dict[str, Node] = {}
        with self._lock:
            for chunk in _chunks(keys):
                marks = ",".join("?" * len(chunk))
                cursor = self._db.execute(
                    f"SELECT key, props FROM nodes WHERE label = ? AND key IN ({marks})",
                    [label, *chunk],
                )
                for key, props in cursor:
                    found[key] = Node(label, key, json.loads(props))
        return found

    def _get_relationships(
        self, start: NodeRef, rel_type: str, end_label: str, end_keys: list[str]
    ) -> dict[str, Relationship]:
        found: dict[str, Relationship] = {}
        with self._lock:
            row = self._db.execute(
                "SELECT id FROM nodes WHERE label = ? AND key = ?", (start.label, start.key)
            ).fetchone()
            if row is None:
                return found
            src = int(row[0])
            for chunk in _chunks(end_keys):
                marks = ",".join("?" * len(chunk))
                cursor = self._db.execute(
                    "SELECT n.key, r.props FROM nodes n JOIN rels r "
                    "ON r.type = ? AND r.src = ? AND r.dst = n.id "
                    f"WHERE n.label = ? AND n.key IN ({marks})",
                    [rel_type, src, end_label, *chunk],
                )
                for key, props in cursor:
                    end = NodeRef(end_label, key)
                    found[key] = Relationship(rel_type, start, end, json.loads(props))
        return found

    def _outgoing(
        self, starts: list[NodeRef], rel_types: list[str], end_props: list[str]
    ) -> Outgoing:
        by_label: dict[str, list[str]] = {}
        for ref in starts:
            by_label.setdefault(ref.label, []).append(ref.key)
        type_marks = ",".join("?" * len(rel_types))
        props_of = "NULL"
        if end_props:
            props_of = f"CASE WHEN n.label IN ({','.join('?' * len(end_props))}) THEN n.props END"
        rels: list[Relationship] = []
        ends: dict[NodeRef, Node] = {}
        loads = json.loads
        with self._lock:
            for label, keys in by_label.items():
                here = {key: NodeRef(label, key) for key in keys}
                for chunk in _chunks(keys):
                    # CROSS JOIN keeps this join order: start nodes by key, then their
                    # relationships by (src, type). Given a few keys, SQLite's planner otherwise
                    # scanned every relationship of the types (53 ms for 4 utterances at 100k).
                    sql = (
                        f"SELECT s.key, r.type, r.props, n.label, n.key, {props_of} FROM nodes s "
                        "CROSS JOIN rels r ON r.src = s.id CROSS JOIN nodes n ON n.id = r.dst "
                        f"WHERE s.label = ? AND s.key IN ({','.join('?' * len(chunk))}) "
                        f"AND r.type IN ({type_marks}) ORDER BY r.id"
                    )
                    params = [*end_props, label, *chunk, *rel_types]
                    for key, rtype, rprops, end_label, end_key, nprops in self._db.execute(
                        sql, params
                    ):
                        end = NodeRef(end_label, end_key)
                        rels.append(Relationship(rtype, here[key], end, loads(rprops)))
                        if nprops is not None:
                            ends[end] = Node(end_label, end_key, loads(nprops))
        return Outgoing(tuple(rels), ends)

    def _expand(
        self,
        frontier: list[NodeRef],
        rel_types: list[str] | None,
        node_labels: list[str] | None,
        direction: Direction,
        limit: int,
    ) -> list[tuple[Relationship, Node]]:
        with self._lock:
            ids = self._resolve_ids(frontier)
            by_id = {row_id: ref for ref, row_id in ids.items()}
            sides = {"out": [("src", "dst")], "in": [("dst", "src")]}.get(
                direction, [("src", "dst"), ("dst", "src")]
            )
            found: list[tuple[Relationship, Node]] = []
            for mine, other in sides:
                for chunk in _chunks([str(i) for i in by_id]):
                    sql = (  # by the frontier's ids; the planner chose the type index to
                        # skip sorting for ORDER BY r.id, a scan of every MENTIONS at 100k
                        f"SELECT r.type, r.{mine}, r.props, n.label, n.key, n.props FROM rels r "
                        f"INDEXED BY rels_by_{mine} JOIN nodes n ON n.id = r.{other} "
                        f"WHERE r.{mine} IN ({','.join('?' * len(chunk))})"
                    )
                    params: list[object] = [int(c) for c in chunk]
                    if rel_types:
                        sql += f" AND r.type IN ({','.join('?' * len(rel_types))})"
                        params += rel_types
                    if node_labels:
                        sql += f" AND n.label IN ({','.join('?' * len(node_labels))})"
                        params += node_labels
                    sql += " ORDER BY r.id LIMIT ?"
                    params.append(limit - len(found))
                    for rtype, own_id, rprops, label, key, nprops in self._db.execute(sql, params):
                        node = Node(label, key, json.loads(nprops))
                        here = by_id[own_id]
                        start, end = (here, node.ref) if mine == "src" else (node.ref, here)
                        found.append((Relationship(rtype, start, end, json.loads(rprops)), node))
                    if len(found) >= limit:
                        return found
            return found

    def _paths(
        self, start: NodeRef, steps: list[PathStep], end: NodeRef | None, limit: int
    ) -> list[GraphPath]:
        joins: list[str] = []
        params: list[object] = []
        for i, step in enumerate(steps, start=1):
            prev, cur, rel = f"n{i - 1}", f"n{i}", f"r{i}"
            # CROSS JOIN: walk from n0 step by step, each relationship found through the node
            # before it (rels_by_src / rels_by_dst; "+type" keeps a "both" step off the type
            # index, so both of those are used); see _outgoing
            near, far = {
                "out": (f"{rel}.src = {prev}.id", f"{rel}.dst"),
                "in": (f"{rel}.dst = {prev}.id", f"{rel}.src"),
            }.get(step.direction, (
                f"({rel}.src = {prev}.id OR {rel}.dst = {prev}.id)",
                f"CASE WHEN {rel}.src = {prev}.id THEN {rel}.dst ELSE {rel}.src END",
            ))
            distinct = "".join(f" AND {rel}.id != r{j}.id" for j in range(1, i))
            typed = f"{rel}.type" if step.direction in ("out", "in") else f"+{rel}.type"
            joins.append(f"CROSS JOIN rels {rel} ON {typed} = ? AND {near}{distinct} "
                         f"CROSS JOIN nodes {cur} ON {cur}.id = {far}")
            params.append(step.type)
        last = f"n{len(steps)}"
        where = "n0.label = ? AND n0.key = ?"
        params += [start.label, start.key]
        if end is not None:
            where += f" AND {last}.label = ? AND {last}.key = ?"
            params += [end.label, end.key]
        node_cols = ", ".join(f"n{i}.label, n{i}.key, n{i}.props" for i in range(len(steps) + 1))
        rel_cols = ", ".join(
            f"r{i}.type, r{i}.src = n{i - 1}.id, r{i}.props" for i in range(1, len(steps) + 1)
        )
        sql = (
            f"SELECT {node_cols}, {rel_cols} FROM nodes n0 {' '.join(joins)} WHERE {where} LIMIT ?"
        )
        params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        paths: list[GraphPath] = []
        hop_count = len(steps)
        for row in rows:
            nodes = tuple(
                Node(row[3 * i], row[3 * i + 1], json.loads(row[3 * i + 2]))
                for i in range(hop_count + 1)
            )
            base = 3 * (hop_count + 1)
            rels = []
            for i in range(hop_count):
                rtype, forward, rprops = row[base + 3 * i : base + 3 * i + 3]
                a, b = nodes[i].ref, nodes[i + 1].ref
                start_ref, end_ref = (a, b) if forward else (b, a)
                rels.append(Relationship(rtype, start_ref, end_ref, json.loads(rprops)))
            paths.append(GraphPath(nodes, tuple(rels)))
        return paths

    def _counts(self) -> GraphCounts:
        with self._lock:
            nodes = dict(self._db.execute("SELECT label, count(*) FROM nodes GROUP BY label"))
            rels = dict(self._db.execute("SELECT type, count(*) FROM rels GROUP BY type"))
        return GraphCounts(nodes=nodes, relationships=rels)

    def _iter_nodes(self, label: str, batch_size: int) -> Iterator[list[Node]]:
        after = 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT id, key, props FROM nodes WHERE label = ? AND id > ? "
                    "ORDER BY id LIMIT ?",
                    (label, after, batch_size),
                ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield [Node(label, key, json.loads(props)) for _, key, props in rows]

    def _iter_relationships(self, rel_type: str, batch_size: int) -> Iterator[list[Relationship]]:
        after = 0
        while True:
            with self._lock:
                rows = self._db.execute(
                    "SELECT r.id, a.label, a.key, b.label, b.key, r.props FROM rels r "
                    "JOIN nodes a ON a.id = r.src JOIN nodes b ON b.id = r.dst "
                    "WHERE r.type = ? AND r.id > ? ORDER BY r.id LIMIT ?",
                    (rel_type, after, batch_size),
                ).fetchall()
            if not rows:
                return
            after = rows[-1][0]
            yield [
                Relationship(rel_type, NodeRef(sl, sk), NodeRef(el, ek), json.loads(props))
                for _, sl, sk, el, ek, props in rows
            ]

    def _iter_relationship_columns(
        self, rel_type: str, props: tuple[str, ...], batch_size: int
    ) -> Iterator[RelationshipColumns]:
        """Keyset pages without row objects (:mod:`needgraph.graph.sqlite_columns`)."""
        if sqlite3.sqlite_version_info < (3, 38, 0):  # no ``->`` operator: generic path
            return super()._iter_relationship_columns(rel_type, props, batch_size)
        spec = self.schema.check_type(rel_type)
        return sqlite_columns.iter_columns(self._db, self._lock, spec, props, batch_size)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back when the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self._db.execute("COMMIT")
        else:
            self._db.execute("ROLLBACK")
