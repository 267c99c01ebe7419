"""SQLite side of :meth:`GraphStore.write_batch`: a checked batch, in the caller's transaction.

The caller (:class:`~needgraph.graph.sqlite.SqliteStore`) holds its lock and an open
``BEGIN IMMEDIATE`` transaction; anything raised here rolls the whole batch back. Tables are the
store's (``nodes``, ``rels``, ``meta``); properties are merged with ``json_patch`` exactly as the
store's single upserts do.
"""

from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any, cast

from needgraph.errors import NodeNotFoundError
from needgraph.graph.batch import OBSERVED_AT, LatestEdge, WriteBatch
from needgraph.graph.records import Properties, Relationship

CHUNK = 500  # bound on host parameters per IN (...) list

UPSERT_NODES = (
    "INSERT INTO nodes (label, key, props) VALUES (?1, ?2, json_patch('{}', ?3)) "
    "ON CONFLICT (label, key) DO UPDATE SET props = json_patch(props, ?3)"
)
UPSERT_RELS = (
    "INSERT INTO rels (type, src, dst, props) VALUES (?1, ?2, ?3, json_patch('{}', ?4)) "
    "ON CONFLICT (type, src, dst) DO UPDATE SET props = json_patch(props, ?4)"
)
DELETE_REL = "DELETE FROM rels WHERE id = ?"
SET_META = (
    "INSERT INTO meta (name, value) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


def node_ids(marks: str) -> str:
    """Row ids of ``?1``'s nodes among the keys bound to ``marks``."""
    return f"SELECT key, id FROM nodes WHERE label = ? AND key IN ({marks})"


def rels_from(marks: str) -> str:
    """Relationships of type ``?1`` starting at the row ids bound to ``marks``."""
    return (
        "SELECT r.id, r.src, r.dst, n.label, n.key, json_extract(r.props, '$.observed_at') "
        f"FROM rels r JOIN nodes n ON n.id = r.dst WHERE r.type = ? AND r.src IN ({marks})"
    )


_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
_encode_str = json.encoder.encode_basestring


def dumps(props: Properties) -> str:
    """Compact JSON of a property map (the hot path of a batch).

    Flat maps of scalars, the usual case, are written directly (property names are checked
    snake_case, so they need no escaping); anything else goes through :mod:`json`. The text is
    the same either way.
    """
    parts = []
    for name, value in props.items():
        if type(value) is float:
            text = float.__repr__(value)
        elif type(value) is str:
            text = _encode_str(value)
        elif value is None:
            text = "null"
        elif type(value) is bool:
            text = "true" if value else "false"
        elif type(value) is int:
            text = int.__repr__(value)
        else:
            return _encode(props)
        parts.append(f'"{name}":{text}')
    return "{" + ",".join(parts) + "}"


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


Ids = dict[str, dict[str, int]]  # label -> key -> row id
Old = tuple[int, int, Any]  # a stored relationship: row id, end row id, its observed_at


def write(db: sqlite3.Connection, batch: WriteBatch) -> None:
    """Write ``batch`` (already checked) on ``db``, inside the caller's transaction."""
    if batch.nodes:
        db.executemany(UPSERT_NODES, [(n.label, n.key, dumps(n.props)) for n in batch.nodes])
    ids = _ids(db, batch)
    by_type: dict[str, list[LatestEdge]] = defaultdict(list)
    for edge in batch.latest:
        by_type[edge.type].append(edge)
    for rel_type, edges in by_type.items():
        _latest(db, rel_type, edges, ids)
    _upsert(db, [
        (r.type, ids[r.start.label][r.start.key], ids[r.end.label][r.end.key], dumps(r.props))
        for r in batch.relationships
    ])
    if batch.meta:
        db.executemany(SET_META, list(batch.meta.items()))


def _ids(db: sqlite3.Connection, batch: WriteBatch) -> Ids:
    """Row ids of every relationship endpoint; :class:`NodeNotFoundError` for a missing one."""
    wanted: dict[str, set[str]] = defaultdict(set)
    rels: list[Relationship] = [*batch.latest, *batch.relationships]
    for rel in rels:
        wanted[rel.start.label].add(rel.start.key)
        wanted[rel.end.label].add(rel.end.key)
    ids: Ids = {}
    for label, keys in wanted.items():
        ordered = sorted(keys)
        found = ids[label] = {}
        for chunk in _chunks(ordered):
            found.update(db.execute(node_ids(",".join("?" * len(chunk))), [label, *chunk]))
        if len(found) < len(ordered):
            missing = next(key for key in ordered if key not in found)
            raise NodeNotFoundError(
                f"relationship endpoint ({label} {missing!r}) does not exist",
                hint="Upsert the node before relationships that use it "
                "(ingest: load the ontology first: needgraph ontology load).",
            )
    return ids


def _latest(db: sqlite3.Connection, rel_type: str, edges: list[LatestEdge], ids: Ids) -> None:
    """Latest-wins upserts of one relationship type (see :mod:`needgraph.graph.batch`).

    The type's relationships from the batch's start nodes are read once; each is filed under
    the batch's groups its end node falls in. Keys are plain ints (``src * width + group
    number``; ``(src, dst)`` likewise): a batch can hold a million edges.
    """
    numbers: dict[tuple[str, str], int] = {}  # (end label, group) -> group number
    for edge in edges:
        if edge.group is not None:
            numbers.setdefault((edge.end.label, edge.group), len(numbers))
    by_label: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (label, group), number in numbers.items():
        by_label[label].append((group, number))
    width = len(numbers) or 1
    sources = sorted({ids[e.start.label][e.start.key] for e in edges})
    span = 1 + max((row_id for found in ids.values() for row_id in found.values()), default=0)
    exact = any(e.group is None for e in edges)
    in_groups: dict[int, list[int]] = {}  # end node row id -> numbers of its groups
    # one old relationship per group is the rule: a bare tuple, a list only for a broken rule
    grouped: dict[int, Old | list[Old]] = {}
    paired: dict[int, Old] = {}
    for chunk in _chunks(sources):
        cursor = db.execute(rels_from(",".join("?" * len(chunk))), [rel_type, *chunk])
        for rel_id, src, dst, label, key, observed in cursor:
            old = (rel_id, dst, observed)
            if exact and dst < span:
                paired[src * span + dst] = old
            mine = in_groups.get(dst)
            if mine is None:
                mine = in_groups[dst] = [n for g, n in by_label.get(label, ()) if key.startswith(g)]
            for number in mine:
                slot = src * width + number
                held = grouped.get(slot)
                if held is None:
                    grouped[slot] = old
                elif type(held) is list:
                    held.append(old)
                else:
                    grouped[slot] = [held, old]  # type: ignore[list-item]
    stale: list[tuple[int]] = []
    rows: list[tuple[str, int, int, str]] = []
    for edge in edges:
        end = edge.end
        src = ids[edge.start.label][edge.start.key]
        dst = ids[end.label][end.key]
        olds: Old | list[Old] | None
        if edge.group is None:
            olds = paired.get(src * span + dst)
        else:
            olds = grouped.get(src * width + numbers[(end.label, edge.group)])
        if olds is not None:
            # newer_or_equal, inlined: '' is the oldest; reduce_latest checked it is a string
            when = cast(str, edge.props.get(OBSERVED_AT) or "")
            if isinstance(olds, tuple):
                rel_id, old_dst, observed = olds
                if when < (observed or ""):
                    continue  # the stored one is newer
                if old_dst != dst:
                    stale.append((rel_id,))
            else:
                if any(when < (observed or "") for _, _, observed in olds):
                    continue
                stale.extend((rel_id,) for rel_id, old_dst, _ in olds if old_dst != dst)
        rows.append((rel_type, src, dst, dumps(edge.props)))
    if stale:
        db.executemany(DELETE_REL, stale)
    _upsert(db, rows)


def _upsert(db: sqlite3.Connection, rows: list[tuple[str, int, int, str]]) -> None:
    if rows:
        db.executemany(UPSERT_RELS, rows)

