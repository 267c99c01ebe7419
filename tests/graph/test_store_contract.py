"""The store contract: every assertion here runs against the embedded store and against Neo4j."""

from __future__ import annotations

import pytest

from needgraph.errors import (
    MissingKeyError,
    NodeNotFoundError,
    UnknownLabelError,
    UnknownRelationshipTypeError,
    UnsupportedPropertyError,
)
from needgraph.graph.base import GraphStore
from needgraph.graph.records import Node, NodeRef, PathStep, Relationship


def cust(key: str, **props):
    return Node("Customer", key, props)


def rel(rel_type: str, start: tuple[str, str], end: tuple[str, str], **props):
    return Relationship(rel_type, NodeRef(*start), NodeRef(*end), props)


@pytest.fixture
def small_graph(store: GraphStore) -> GraphStore:
    """customer c1 -HAS_TAG-> bin -INDICATES-> cause -BLOCKS-> need <-ADDRESSES- strategy."""
    store.upsert_nodes(
        [
            cust("c1", name="张三"),
            cust("c2"),
            Node("Tag", "tag.evening_latency"),
            Node("TagBin", "tag.evening_latency=high", {"label_zh": "高", "min": 150.0}),
            Node("Cause", "cause.evening_congestion", {"label_zh": "晚高峰拥塞"}),
            Node("Need", "need.stable_evening_broadband"),
            Node("Strategy", "strategy.speed_upgrade_trial", {"cost": 20.0}),
            Node("Domain", "domain.home_broadband"),
        ]
    )
    store.upsert_relationships(
        [
            rel("HAS_TAG", ("Customer", "c1"), ("TagBin", "tag.evening_latency=high"), value=180.0),
            rel("HAS_TAG", ("Customer", "c2"), ("TagBin", "tag.evening_latency=high"), value=160.0),
            rel("BIN_OF", ("TagBin", "tag.evening_latency=high"), ("Tag", "tag.evening_latency")),
            rel(
                "INDICATES",
                ("TagBin", "tag.evening_latency=high"),
                ("Cause", "cause.evening_congestion"),
                weight=0.8,
            ),
            rel(
                "BLOCKS",
                ("Cause", "cause.evening_congestion"),
                ("Need", "need.stable_evening_broadband"),
            ),
            rel(
                "AFFECTS",
                ("Cause", "cause.evening_congestion"),
                ("Domain", "domain.home_broadband"),
            ),
            rel(
                "ADDRESSES",
                ("Strategy", "strategy.speed_upgrade_trial"),
                ("Need", "need.stable_evening_broadband"),
            ),
        ]
    )
    return store


def test_upsert_and_get_roundtrips_properties(store: GraphStore):
    props = {
        "name": "李四",
        "age": 42,
        "arpu": 88.5,
        "vip": True,
        "scores": [1.5, 2.25],
        "channels": ["app", "热线"],
    }
    store.upsert_nodes([cust("c-9", **props)])
    node = store.get_node(NodeRef("Customer", "c-9"))
    assert node is not None
    assert node.props == props
    assert store.get_node(NodeRef("Customer", "nobody")) is None


def test_upsert_merges_properties_and_none_removes(store: GraphStore):
    store.upsert_nodes([cust("c1", a=1, b="x")])
    store.upsert_nodes([cust("c1", b="y", c=2.5)])
    store.upsert_nodes([cust("c1", a=None)])
    node = store.get_node(NodeRef("Customer", "c1"))
    assert node is not None and node.props == {"b": "y", "c": 2.5}


def test_upserting_same_batch_twice_changes_nothing(small_graph: GraphStore):
    before = small_graph.counts()
    small_graph.upsert_nodes([cust("c1", name="张三"), cust("c2")])
    small_graph.upsert_relationships(
        [rel("HAS_TAG", ("Customer", "c1"), ("TagBin", "tag.evening_latency=high"), value=180.0)]
    )
    assert small_graph.counts() == before
    assert before.nodes["Customer"] == 2
    assert before.relationships["HAS_TAG"] == 2


def test_relationship_props_merge_on_upsert(small_graph: GraphStore):
    small_graph.upsert_relationships(
        [rel("HAS_TAG", ("Customer", "c1"), ("TagBin", "tag.evening_latency=high"), seen=3)]
    )
    sub = small_graph.neighbourhood(NodeRef("Customer", "c1"), rel_types=["HAS_TAG"])
    (only,) = sub.relationships
    assert only.props == {"value": 180.0, "seen": 3}


def test_unicode_keys_and_properties(store: GraphStore):
    store.upsert_nodes(
        [cust("客户-甲", note="晚上看视频一直卡[呵呵]"), Node("Cause", "原因.晚高峰")]
    )
    node = store.get_node(NodeRef("Customer", "客户-甲"))
    assert node is not None and node.props["note"] == "晚上看视频一直卡[呵呵]"
    assert store.get_nodes("Cause", ["原因.晚高峰", "没有"]).keys() == {"原因.晚高峰"}


def test_delete_removes_node_and_its_relationships(small_graph: GraphStore):
    assert small_graph.delete_node(NodeRef("TagBin", "tag.evening_latency=high")) is True
    counts = small_graph.counts()
    assert "HAS_TAG" not in counts.relationships
    assert "INDICATES" not in counts.relationships
    assert counts.relationships["BLOCKS"] == 1
    assert small_graph.delete_node(NodeRef("TagBin", "tag.evening_latency=high")) is False


def test_neighbourhood_hops_and_filters(small_graph: GraphStore):
    c1 = NodeRef("Customer", "c1")
    one = small_graph.neighbourhood(c1, hops=1)
    assert {n.key for n in one.nodes} == {"tag.evening_latency=high"}
    two = small_graph.neighbourhood(c1, hops=2)
    assert {n.key for n in two.nodes} == {
        "tag.evening_latency=high",
        "c2",
        "tag.evening_latency",
        "cause.evening_congestion",
    }
    causes_only = small_graph.neighbourhood(
        c1,
        hops=3,
        node_labels=["TagBin", "Cause", "Need"],
        rel_types=["HAS_TAG", "INDICATES", "BLOCKS"],
    )
    assert {n.label for n in causes_only.nodes} == {"TagBin", "Cause", "Need"}
    outgoing = small_graph.neighbourhood(
        NodeRef("Cause", "cause.evening_congestion"), direction="out"
    )
    assert {n.label for n in outgoing.nodes} == {"Need", "Domain"}
    limited = small_graph.neighbourhood(c1, hops=2, limit=2)
    assert len(limited.nodes) == 2
    for r in two.relationships:
        assert r.start in {n.ref for n in two.nodes} | {c1}


def test_neighbourhood_of_missing_node_is_refused(store: GraphStore):
    with pytest.raises(NodeNotFoundError, match="nobody"):
        store.neighbourhood(NodeRef("Customer", "nobody"))


def test_typed_paths_follow_the_step_sequence(small_graph: GraphStore):
    steps = [
        PathStep("HAS_TAG"),
        PathStep("INDICATES"),
        PathStep("BLOCKS"),
        PathStep("ADDRESSES", "in"),
    ]
    paths = small_graph.paths(NodeRef("Customer", "c1"), steps)
    assert len(paths) == 1
    (path,) = paths
    assert [n.label for n in path.nodes] == ["Customer", "TagBin", "Cause", "Need", "Strategy"]
    assert [r.type for r in path.relationships] == ["HAS_TAG", "INDICATES", "BLOCKS", "ADDRESSES"]
    assert path.relationships[3].start == NodeRef("Strategy", "strategy.speed_upgrade_trial")
    assert path.relationships[1].props == {"weight": 0.8}
    to_end = small_graph.paths(
        NodeRef("Customer", "c1"), steps[:2], end=NodeRef("Cause", "cause.evening_congestion")
    )
    assert len(to_end) == 1
    wrong_end = small_graph.paths(
        NodeRef("Customer", "c1"), steps[:2], end=NodeRef("Cause", "cause.other")
    )
    assert wrong_end == []
    # c1 -> bin <- c2: both-way steps never reuse a relationship
    both = small_graph.paths(NodeRef("Customer", "c1"), [PathStep("HAS_TAG", "both")] * 2)
    assert [p.nodes[-1].key for p in both] == ["c2"]


def test_counts_by_label_and_type(small_graph: GraphStore):
    counts = small_graph.counts()
    assert counts.nodes == {
        "Customer": 2,
        "Tag": 1,
        "TagBin": 1,
        "Cause": 1,
        "Need": 1,
        "Strategy": 1,
        "Domain": 1,
    }
    assert counts.total_relationships == 7


def test_streaming_export_in_batches(store: GraphStore):
    store.upsert_nodes([cust(f"c{i:04d}", i=i) for i in range(250)])
    store.upsert_nodes([Node("TagBin", "t=b")])
    store.upsert_relationships(
        [rel("HAS_TAG", ("Customer", f"c{i:04d}"), ("TagBin", "t=b")) for i in range(250)]
    )
    batches = list(store.iter_nodes("Customer", batch_size=100))
    assert [len(b) for b in batches] == [100, 100, 50]
    assert sorted(n.props["i"] for b in batches for n in b) == list(range(250))
    rel_batches = list(store.iter_relationships("HAS_TAG", batch_size=64))
    assert all(len(b) <= 64 for b in rel_batches)
    assert len({r.start.key for b in rel_batches for r in b}) == 250


def test_large_batch_of_relationships(store: GraphStore):
    n = 50_000
    store.upsert_nodes(cust(f"c{i}") for i in range(n))
    store.upsert_nodes(Node("TagBin", f"t=b{j}") for j in range(10))
    rels = [
        rel("HAS_TAG", ("Customer", f"c{i}"), ("TagBin", f"t=b{i % 10}"), value=i) for i in range(n)
    ]
    assert store.upsert_relationships(rels, batch_size=10_000) == n
    assert store.counts().relationships["HAS_TAG"] == n
    store.upsert_relationships(rels, batch_size=10_000)
    assert store.counts().relationships["HAS_TAG"] == n


def test_merge_and_relink_move_every_edge(small_graph: GraphStore):
    small_graph.upsert_nodes([Node("Cause", "cause.peak_hour_slowness")])
    small_graph.upsert_relationships(
        [
            rel(
                "BLOCKS",
                ("Cause", "cause.peak_hour_slowness"),
                ("Need", "need.stable_evening_broadband"),
                note="target wins",
            ),
        ]
    )
    moved = small_graph.merge_nodes(
        NodeRef("Cause", "cause.evening_congestion"), NodeRef("Cause", "cause.peak_hour_slowness")
    )
    assert moved == 3
    assert small_graph.get_node(NodeRef("Cause", "cause.evening_congestion")) is None
    sub = small_graph.neighbourhood(NodeRef("Cause", "cause.peak_hour_slowness"))
    assert {r.type for r in sub.relationships} == {"INDICATES", "BLOCKS", "AFFECTS"}
    blocks = [r for r in sub.relationships if r.type == "BLOCKS"]
    assert blocks[0].props == {"note": "target wins"}
    assert small_graph.counts().relationships["INDICATES"] == 1


def test_meta_roundtrip(store: GraphStore):
    assert store.get_meta("ontology.version") is None
    store.set_meta("ontology.version", '{"version": "1.0.0"}')
    store.set_meta("ontology.version", '{"version": "1.0.1"}')
    assert store.get_meta("ontology.version") == '{"version": "1.0.1"}'
    assert store.counts().nodes == {}


def test_unknown_label_is_refused_by_name(store: GraphStore):
    with pytest.raises(UnknownLabelError, match="'Custmer'"):
        store.upsert_nodes([Node("Custmer", "c1")])


def test_unknown_type_and_wrong_endpoints_are_refused(small_graph: GraphStore):
    with pytest.raises(UnknownRelationshipTypeError, match="'LIKES'"):
        small_graph.upsert_relationships([rel("LIKES", ("Customer", "c1"), ("Customer", "c2"))])
    with pytest.raises(UnknownRelationshipTypeError, match="from Customer to Need"):
        small_graph.upsert_relationships(
            [rel("HAS_TAG", ("Customer", "c1"), ("Need", "need.stable_evening_broadband"))]
        )


def test_missing_key_is_refused(store: GraphStore):
    with pytest.raises(MissingKeyError, match="Customer"):
        store.upsert_nodes([cust("  ")])


@pytest.mark.parametrize(
    "bad",
    [
        {"nested": {"a": 1}},
        {"mixed": [1, "a"]},
        {"nan": float("nan")},
        {"BadName": 1},
        {"key": "x"},
    ],
)
def test_unsupported_property_is_refused_by_name(store: GraphStore, bad):
    with pytest.raises(UnsupportedPropertyError, match=repr(next(iter(bad)))):
        store.upsert_nodes([Node("Customer", "c1", bad)])
    assert store.counts().nodes == {}


def test_relationship_to_missing_node_refuses_whole_batch(small_graph: GraphStore):
    before = small_graph.counts()
    batch = [
        rel("HAS_TAG", ("Customer", "c2"), ("TagBin", "tag.evening_latency=high"), extra=1),
        rel("HAS_TAG", ("Customer", "ghost"), ("TagBin", "tag.evening_latency=high")),
    ]
    with pytest.raises(NodeNotFoundError, match="ghost"):
        small_graph.upsert_relationships(batch)
    assert small_graph.counts() == before
    sub = small_graph.neighbourhood(NodeRef("Customer", "c2"))
    assert sub.relationships[0].props == {"value": 160.0}
