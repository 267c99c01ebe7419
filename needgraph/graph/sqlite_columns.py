"""SQLite side of :meth:`GraphStore.iter_relationship_columns`: keyset pages, no row objects.

Pages follow the ``rels_by_type`` index (``type``, then rowid), so each page is a range seek and
the whole scan is linear in the relationships of the type. Requested properties come back as
their JSON text (``props -> '$.name'``), and each property column of a page is decoded by one
``json.loads`` of the joined texts, never a ``dict`` per row. For a type with one start and one
end label (``HAS_TAG``, ``RATED``...) pages read only ``rels``: endpoint row ids become keys
through an id -> key table of each label, read once (and refreshed when a node written since
shows up). Other types join ``nodes`` and page once per label pair.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import cast

from needgraph.graph.columns import RelationshipColumns
from needgraph.graph.schema import RelationshipSpec


def iter_columns(
    db: sqlite3.Connection,
    lock: threading.RLock,
    spec: RelationshipSpec,
    props: tuple[str, ...],
    batch_size: int,
) -> Iterator[RelationshipColumns]:
    """Every relationship of ``spec.type`` in column batches (see the module docstring).

    Args:
        db: The store's connection.
        lock: The store's lock, held per page.
        spec: The relationship type's spec (its endpoint labels).
        props: Checked property names to return.
        batch_size: Relationships per page.
    """
    values = "".join(f", coalesce(r.props -> '$.{p}', 'null')" for p in props)
    if len(spec.start_labels) == 1 and len(spec.end_labels) == 1:
        (start_label,), (end_label,) = spec.start_labels, spec.end_labels
        sql = (
            f"SELECT r.id, r.src, r.dst{values} FROM rels r "
            "WHERE r.type = ? AND r.id > ? ORDER BY r.id LIMIT ?"
        )
        tables = _KeyTables(db, lock)
        for rows in _pages(db, lock, sql, (spec.type,), batch_size):
            columns = list(zip(*rows, strict=True))
            starts = tables.keys(start_label, cast(tuple[int, ...], columns[1]))
            ends = tables.keys(end_label, cast(tuple[int, ...], columns[2]))
            if None in starts or None in ends:  # endpoint deleted while paging: drop the row
                keep = [i for i, (s, e) in enumerate(zip(starts, ends, strict=True))
                        if s is not None and e is not None]
                columns = [tuple(col[i] for i in keep) for col in columns]
                starts, ends = [starts[i] for i in keep], [ends[i] for i in keep]
            yield _batch(spec.type, start_label, end_label, cast(list[str], starts),
                         cast(list[str], ends), props, columns[3:])
        return
    sql = (
        f"SELECT r.id, a.key, b.key{values} FROM rels r "  # CROSS JOIN: rels drive the scan
        "CROSS JOIN nodes a ON a.id = r.src CROSS JOIN nodes b ON b.id = r.dst "
        "WHERE r.type = ? AND r.id > ? AND a.label = ? AND b.label = ? ORDER BY r.id LIMIT ?"
    )
    for start_label in sorted(spec.start_labels):
        for end_label in sorted(spec.end_labels):
            params = (spec.type, start_label, end_label)
            for rows in _pages(db, lock, sql, params, batch_size):
                columns = list(zip(*rows, strict=True))
                yield _batch(spec.type, start_label, end_label, cast(list[str], list(columns[1])),
                             cast(list[str], list(columns[2])), props, columns[3:])


def _pages(
    db: sqlite3.Connection,
    lock: threading.RLock,
    sql: str,
    params: tuple[str, ...],
    batch_size: int,
) -> Iterator[list[tuple[object, ...]]]:
    """Keyset pages of ``sql`` (first column the rowid; ``?`` after ``r.type``: the last one)."""
    after = 0
    while True:
        with lock:
            rows = db.execute(sql, (params[0], after, *params[1:], batch_size)).fetchall()
        if not rows:
            return
        after = rows[-1][0]
        yield rows


def _batch(
    rel_type: str,
    start_label: str,
    end_label: str,
    starts: list[str],
    ends: list[str],
    props: tuple[str, ...],
    texts: Sequence[Sequence[object]],
) -> RelationshipColumns:
    """One batch; ``texts[i]``: the JSON texts of ``props[i]`` (one ``json.loads`` each)."""
    decoded = {
        p: json.loads("[" + ",".join(cast(Sequence[str], texts[i])) + "]")
        for i, p in enumerate(props)
    }
    return RelationshipColumns(rel_type, start_label, end_label, starts, ends, decoded)


class _KeyTables:
    """Row id -> key of the nodes of each label, read on first use."""

    def __init__(self, db: sqlite3.Connection, lock: threading.RLock) -> None:
        self._db, self._lock = db, lock
        self._tables: dict[str, dict[int, str]] = {}

    def _read(self, label: str) -> dict[int, str]:
        with self._lock:
            rows = self._db.execute("SELECT id, key FROM nodes WHERE label = ?", (label,))
            table = cast(dict[int, str], dict(rows.fetchall()))
        self._tables[label] = table
        return table

    def keys(self, label: str, ids: Sequence[int]) -> list[str | None]:
        """Keys of ``ids`` (``None`` for a node that no longer exists)."""
        table = self._tables.get(label)
        if table is None:
            table = self._read(label)
        keys = list(map(table.get, ids))
        if None in keys:  # nodes written since the table was read
            keys = list(map(self._read(label).get, ids))
        return keys
