"""The embedded store checkpoints its write-ahead log in a background thread, not in writes."""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from needgraph.graph.records import Node, NodeRef
from needgraph.graph.sqlite import SqliteStore
from needgraph.graph.sqlite_wal import WalCheckpointer
from needgraph.ontology.graph_schema import GRAPH_SCHEMA

PAGE = 4096


class _Owner:
    """Something whose lifetime bounds a checkpointer."""


def _nodes(n: int, start: int = 0) -> list[Node]:
    return [Node("Customer", f"c{i}", {"note": "x" * 900}) for i in range(start, start + n)]


def _checkpointers(path: Path) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"needgraph-wal-checkpoint:{path}"]


def _wait_for(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_write_never_checkpoints(tmp_path: Path):
    """Past SQLite's 1,000-page automatic checkpoint the database file still has not grown:
    the write left the copy to the checkpointer (here one that waits an hour)."""
    path = tmp_path / "raw.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE t (v TEXT)")
    before = path.stat().st_size
    owner = _Owner()
    WalCheckpointer(owner, db, str(path), interval_s=3600).stop(timeout_s=0)
    for _ in range(6):  # ~6 MB of commits, 1,500 pages
        db.execute("BEGIN")
        db.executemany("INSERT INTO t VALUES (?)", [("y" * 1000,)] * 1000)
        db.execute("COMMIT")
    assert path.stat().st_size == before
    assert (tmp_path / "raw.db-wal").stat().st_size > 1000 * PAGE
    db.close()


def test_the_background_thread_copies_the_log_into_the_file(tmp_path: Path):
    """Commits below the automatic threshold (~300 pages) reach the file within seconds."""
    path = tmp_path / "store.db"
    store = SqliteStore(path, schema=GRAPH_SCHEMA)
    try:
        before = path.stat().st_size
        store.upsert_nodes(_nodes(1000))
        assert _wait_for(lambda: path.stat().st_size > before + 200 * PAGE)
        assert store.get_node(NodeRef("Customer", "c999")) is not None
    finally:
        store.close()


def _written_store(path: Path, nodes: int) -> SqliteStore:
    """A store at ``path`` holding ``nodes`` customers, its one checkpointer running."""
    store = SqliteStore(path, schema=GRAPH_SCHEMA)
    store.upsert_nodes(_nodes(nodes))
    assert len(_checkpointers(path)) == 1
    return store


def test_close_stops_the_thread_and_removes_the_log(tmp_path: Path):
    path = tmp_path / "store.db"
    store = _written_store(path, 10)
    store.close()
    assert _checkpointers(path) == []
    assert not (tmp_path / "store.db-wal").exists()  # the last connection closed
    reopened = SqliteStore(path, schema=GRAPH_SCHEMA)
    try:
        assert reopened.get_node(NodeRef("Customer", "c9")) is not None
    finally:
        reopened.close()


def test_a_store_dropped_without_close_stops_its_thread(tmp_path: Path):
    path = tmp_path / "dropped.db"
    store = _written_store(path, 3)
    del store
    gc.collect()
    assert _wait_for(lambda: _checkpointers(path) == [], timeout_s=5.0)


def test_an_in_memory_store_has_no_checkpointer():
    before = {t.name for t in threading.enumerate()}
    store = SqliteStore(":memory:", schema=GRAPH_SCHEMA)
    try:
        started = {t.name for t in threading.enumerate()} - before
        assert not any(name.startswith("needgraph-wal-checkpoint") for name in started)
    finally:
        store.close()


def test_without_a_second_connection_writes_keep_sqlites_own_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    path = tmp_path / "solo.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")

    def refuse(*_args: object, **_kwargs: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr("needgraph.graph.sqlite_wal.sqlite3.connect", refuse)
    owner = _Owner()
    checkpointer = WalCheckpointer(owner, db, str(path))
    assert not checkpointer.running
    assert db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    db.close()


def test_a_non_positive_interval_is_refused(tmp_path: Path):
    db = sqlite3.connect(tmp_path / "x.db")
    with pytest.raises(ValueError, match="got 0"):
        WalCheckpointer(_Owner(), db, str(tmp_path / "x.db"), interval_s=0)
    db.close()
