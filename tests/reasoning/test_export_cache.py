"""The export cache: hits only for the same store, write state, schema and options; both stores."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.config import Settings, get_settings  # noqa: E402
from needgraph.graph.base import GraphStore  # noqa: E402
from needgraph.graph.batch import WriteBatch  # noqa: E402
from needgraph.graph.records import Node, NodeRef, Relationship  # noqa: E402
from needgraph.ontology.graph_schema import GRAPH_SCHEMA  # noqa: E402
from needgraph.reasoning import export as export_mod  # noqa: E402
from needgraph.reasoning.export import ExportOptions, export_graph  # noqa: E402
from needgraph.reasoning.export_cache import ExportCache  # noqa: E402
from tests.reasoning.conftest import build_store, fill_store  # noqa: E402

C0 = NodeRef("Customer", "C0000")
PLUS = NodeRef("TagBin", "tag.plan=plus")


@pytest.fixture
def graph(store: GraphStore, tmp_path: Path) -> GraphStore:
    """The synthetic reasoning graph (60 customers, text, offers, labels) in each backend."""
    return fill_store(store, tmp_path, n=60, unlabelled=10)


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the uncached exports (reads of the store) that ``export_graph`` runs."""
    counted: list[int] = []
    real = export_mod._export

    def counting(*args: Any, **kwargs: Any) -> Any:
        counted.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(export_mod, "_export", counting)
    return counted


def assert_same(a: Any, b: Any) -> None:
    """Every node and edge store holds equal attributes (tensors bit for bit)."""
    assert list(a.node_types) == list(b.node_types)
    assert list(a.edge_types) == list(b.edge_types)
    assert a.schema_fingerprint == b.schema_fingerprint
    for t in [*a.node_types, *a.edge_types]:
        da, db = a[t].to_dict(), b[t].to_dict()
        assert da.keys() == db.keys(), t
        for k, v in da.items():
            if isinstance(v, torch.Tensor):
                assert v.dtype == db[k].dtype and torch.equal(v, db[k]), (t, k)
            else:
                assert v == db[k], (t, k)


def test_unchanged_store_is_served_from_the_cache(graph: GraphStore, tmp_path: Path, calls):
    fresh, schema = export_graph(graph, cache=False)
    first, s1 = export_graph(graph, cache=ExportCache(tmp_path / "cache"))
    assert len(calls) == 2
    # a second process: another cache object on the same folder (and for SQLite another
    # connection to the same file)
    other = graph
    if graph.backend == "sqlite":
        from needgraph.graph.sqlite import SqliteStore

        other = SqliteStore(graph.path, schema=GRAPH_SCHEMA)  # type: ignore[attr-defined]
    second, s2 = export_graph(other, cache=ExportCache(tmp_path / "cache"))
    assert len(calls) == 2  # the store was not read again
    assert s1 == s2 == schema
    assert_same(second, fresh)
    assert_same(first, fresh)
    # the cached graph is usable and independent: reverse edges are real copies
    rev = second["tag_bin", "rev_has_tag", "customer"]
    assert torch.equal(rev.edge_index, second["customer", "has_tag", "tag_bin"].edge_index.flip(0))
    if other is not graph:
        other.close()


def _write_batch(s: GraphStore) -> None:
    s.write_batch(WriteBatch(relationships=[Relationship("HAS_TAG", C0, PLUS, {"value": 1})]))


WRITES: dict[str, Callable[[GraphStore], object]] = {
    "upsert_nodes": lambda s: s.upsert_nodes([Node("Customer", "C9999")]),
    "upsert_relationships": lambda s: s.upsert_relationships(
        [Relationship("HAS_TAG", C0, PLUS, {"value": 1})]
    ),
    "write_batch": _write_batch,
    "delete_node": lambda s: s.delete_node(C0),
    "relink": lambda s: s.relink(C0, NodeRef("Customer", "C0001")),
    "merge_nodes": lambda s: s.merge_nodes(C0, NodeRef("Customer", "C0001")),
    "clear": lambda s: s.clear(),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_any_write_invalidates(graph: GraphStore, tmp_path: Path, calls, write: str):
    cache = ExportCache(tmp_path / "cache")
    before, _ = export_graph(graph, cache=cache)
    WRITES[write](graph)
    after, _ = export_graph(graph, cache=cache)
    assert len(calls) == 2
    truth, _ = export_graph(graph, cache=False)
    assert_same(after, truth)
    assert before["customer"].num_nodes != after["customer"].num_nodes or not torch.equal(
        before["customer"].x, after["customer"].x
    )
    export_graph(graph, cache=cache)  # and the new state is cached in turn
    assert len(calls) == 3


def test_a_different_schema_or_options_misses(graph: GraphStore, tmp_path: Path, calls):
    cache = ExportCache(tmp_path / "cache", keep=10)
    _, derived = export_graph(graph, cache=cache)
    other = build_store(tmp_path / "other.db", n=30, seed=3)
    _, foreign = export_graph(other, cache=False)
    other.close()
    assert len(calls) == 2 and foreign != derived
    data, used = export_graph(graph, foreign, cache=cache)  # a model trained elsewhere
    assert len(calls) == 3 and used == foreign
    assert data.schema_fingerprint == foreign.fingerprint()
    export_graph(graph, foreign, cache=cache)
    assert len(calls) == 3  # the same explicit schema hits
    export_graph(graph, derived, cache=cache)  # an explicit schema is not "derive one"
    export_graph(graph, options=ExportOptions(include_text=False), cache=cache)
    assert len(calls) == 5
    export_graph(graph, options=ExportOptions(batch_size=7), cache=cache)  # same tensors
    assert len(calls) == 5


def test_settings_choose_the_folder_and_off_disables(
    graph: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, calls
):
    folder = tmp_path / "settings-cache"
    monkeypatch.setenv("NEEDGRAPH_CACHE_DIR", str(folder))
    get_settings.cache_clear()
    try:
        export_graph(graph)
        export_graph(graph)
        assert len(calls) == 1 and len(list(folder.iterdir())) == 1
        monkeypatch.setenv("NEEDGRAPH_CACHE_DIR", "off")
        get_settings.cache_clear()
        assert ExportCache.from_settings() is None
        export_graph(graph)
        assert len(calls) == 2
    finally:
        get_settings.cache_clear()
    assert Settings(NEEDGRAPH_CACHE_DIR="OFF").export_cache_dir is None
    monkeypatch.delenv("NEEDGRAPH_CACHE_DIR")
    assert Settings().export_cache_dir == Path("needgraph-data/cache")


def test_a_corrupt_or_foreign_entry_is_ignored(
    graph: GraphStore, tmp_path: Path, calls, caplog: pytest.LogCaptureFixture
):
    cache = ExportCache(tmp_path / "cache")
    truth, _ = export_graph(graph, cache=cache)
    (entry,) = cache.entries()
    good = entry.read_bytes()
    entry.write_bytes(good[: len(good) // 2])  # truncated
    with caplog.at_level(logging.WARNING, logger="needgraph.reasoning.export_cache"):
        data, _ = export_graph(graph, cache=cache)
    assert len(calls) == 2
    assert_same(data, truth)
    assert "ignoring export cache entry" in caplog.text
    export_graph(graph, cache=cache)  # rewritten whole by the miss
    assert len(calls) == 2
    # an entry written for another key (copied under this key's name) is not trusted
    graph.upsert_nodes([Node("Customer", "C9999")])
    key = cache.key_for(graph, None, {"ple_segments": 8, "include_text": True})
    assert key is not None
    cache.path_of(key).write_bytes(good)
    data, _ = export_graph(graph, cache=cache)
    assert len(calls) == 3 and data["customer"].num_nodes == 61


def test_written_during_the_export_is_not_cached(
    graph: GraphStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    real = export_mod._export

    def racing(store: GraphStore, *args: Any) -> Any:
        out = real(store, *args)
        store.upsert_nodes([Node("Customer", "C9999")])  # lands after the store was read
        return out

    monkeypatch.setattr(export_mod, "_export", racing)
    cache = ExportCache(tmp_path / "cache")
    export_graph(graph, cache=cache)
    assert cache.entries() == []


def test_old_entries_are_pruned(graph: GraphStore, tmp_path: Path):
    cache = ExportCache(tmp_path / "cache", keep=2)
    for i in range(4):
        graph.upsert_nodes([Node("Customer", f"X{i}")])
        export_graph(graph, cache=cache)
    assert len(cache.entries()) == 2
    assert not list((tmp_path / "cache").glob("*.tmp"))
