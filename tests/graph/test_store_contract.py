"""The store contract: every assertion here runs against the embedded store and against Neo4j."""

from __future__ import annotations

import dataclasses

import pytest

from needgraph.errors import (
    MissingKeyError,
    NodeNotFoundError,
    SchemaViolationError,
    UnknownLabelError,
    UnknownRelationshipTypeError,
    UnsupportedPropertyError,
)
from needgraph.graph.base import GraphStore
from needgraph.graph.batch import LatestEdge, WriteBatch
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


def test_get_relationships_reads_only_the_named_ends(small_graph: GraphStore):
    high = "tag.evening_latency=high"
    small_graph.upsert_nodes([Node("TagBin", "tag.evening_latency=low")])
    small_graph.upsert_relationships(
        [rel("HAS_TAG", ("Customer", "c1"), ("TagBin", "tag.evening_latency=low"), value=9.0)]
    )
    c1 = NodeRef("Customer", "c1")
    found = small_graph.get_relationships(c1, "HAS_TAG", "TagBin", [high, "no-such-bin"])
    assert list(found) == [high]
    assert found[high] == Relationship("HAS_TAG", c1, NodeRef("TagBin", high), {"value": 180.0})
    other = small_graph.get_relationships(NodeRef("Customer", "c2"), "HAS_TAG", "TagBin", [high])
    assert other[high].props == {"value": 160.0}
    assert small_graph.get_relationships(c1, "HAS_TAG", "TagBin", []) == {}
    missing = NodeRef("Customer", "nobody")
    assert small_graph.get_relationships(missing, "HAS_TAG", "TagBin", [high]) == {}
    with pytest.raises(UnknownRelationshipTypeError, match="HAS_TAGS"):
        small_graph.get_relationships(c1, "HAS_TAGS", "TagBin", [high])


def test_outgoing_reads_relationships_and_only_the_ends_asked_for(small_graph: GraphStore):
    c1, c2 = NodeRef("Customer", "c1"), NodeRef("Customer", "c2")
    high = NodeRef("TagBin", "tag.evening_latency=high")
    bare = small_graph.outgoing([c1], ["HAS_TAG"])
    assert bare.relationships == (Relationship("HAS_TAG", c1, high, {"value": 180.0}),)
    assert bare.ends == {}
    both = small_graph.outgoing([c1, c2, c1], ["HAS_TAG", "RATED"], end_props=["TagBin"])
    assert {(r.start.key, r.props["value"]) for r in both.relationships} == {
        ("c1", 180.0),
        ("c2", 160.0),
    }
    assert both.ends == {high: Node("TagBin", high.key, {"label_zh": "高", "min": 150.0})}
    further = small_graph.outgoing([high], ["INDICATES", "BIN_OF"], end_props=["Cause"])
    assert {r.end.label for r in further.relationships} == {"Cause", "Tag"}
    assert set(further.ends) == {NodeRef("Cause", "cause.evening_congestion")}
    assert small_graph.outgoing([NodeRef("Customer", "nobody")], ["HAS_TAG"]).relationships == ()
    assert small_graph.outgoing([], ["HAS_TAG"]).relationships == ()
    with pytest.raises(UnknownRelationshipTypeError, match="HAS_TAGS"):
        small_graph.outgoing([c1], ["HAS_TAGS"])
    with pytest.raises(UnknownLabelError, match="TagBins"):
        small_graph.outgoing([c1], ["HAS_TAG"], end_props=["TagBins"])
    with pytest.raises(SchemaViolationError, match="at least one relationship type"):
        small_graph.outgoing([c1], [])


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


# -- write_batch: one transaction, latest observation wins ---------------------------------------


def edges_of(store: GraphStore, rel_type: str) -> dict[tuple[str, str], dict]:
    return {
        (r.start.key, r.end.key): r.props
        for batch in store.iter_relationships(rel_type)
        for r in batch
    }


def tag(customer: str, bin_key: str, value, when: str | None) -> LatestEdge:
    return LatestEdge("HAS_TAG", NodeRef("Customer", customer), NodeRef("TagBin", bin_key),
                      {"value": value, "observed_at": when}, group=bin_key.split("=", 1)[0] + "=")


def rating(customer: str, domain: str, score: float, when: str | None) -> LatestEdge:
    return LatestEdge("RATED", NodeRef("Customer", customer), NodeRef("Domain", domain),
                      {"score": score, "observed_at": when})


@pytest.fixture
def tagged(store: GraphStore) -> GraphStore:
    """c1 has tag x = low (July) and y = a; c2 has no edge; bins, domains tv and tv_plus."""
    store.upsert_nodes([cust("c1"), cust("c2")])
    store.upsert_nodes(Node("TagBin", k) for k in ("x=low", "x=mid", "x=high", "y=a", "y=b"))
    store.upsert_nodes([Node("Domain", "domain.tv"), Node("Domain", "domain.tv_plus")])
    store.write_batch(WriteBatch(latest=[
        tag("c1", "x=low", 1.0, "2026-07-01T00:00:00Z"),
        tag("c1", "y=a", "a", None),
    ]))
    return store


def test_write_batch_commits_everything_with_its_meta(store: GraphStore):
    store.upsert_nodes([Node("TagBin", "x=low"), Node("Domain", "domain.tv")])
    batch = WriteBatch(
        nodes=[cust("c1", source="t"), Node("Offer", "c1:s:1", {"outcome": "accepted"}),
               Node("Strategy", "s")],
        relationships=[rel("RECEIVED", ("Customer", "c1"), ("Offer", "c1:s:1")),
                       rel("OF_STRATEGY", ("Offer", "c1:s:1"), ("Strategy", "s"))],
        latest=[tag("c1", "x=low", 1.5, "2026-07-01T00:00:00Z"),
                rating("c1", "domain.tv", 2.0, "2026-07-01T00:00:00Z")],
        meta={"ingest.job.j1": '{"last_row": 10}', "event.e1": "{}", "live.log.w.1": "c1"},
    )
    store.set_meta("event.e1", "an older value")
    store.write_batch(batch)
    counts = store.counts()
    assert counts.nodes == {"Customer": 1, "Offer": 1, "Strategy": 1, "TagBin": 1, "Domain": 1}
    assert counts.relationships == {"RECEIVED": 1, "OF_STRATEGY": 1, "HAS_TAG": 1, "RATED": 1}
    assert edges_of(store, "HAS_TAG") == {
        ("c1", "x=low"): {"value": 1.5, "observed_at": "2026-07-01T00:00:00Z"}}
    assert store.get_meta("ingest.job.j1") == '{"last_row": 10}'
    assert (store.get_meta("event.e1"), store.get_meta("live.log.w.1")) == ("{}", "c1")
    # the same batch again changes nothing
    store.write_batch(batch)
    assert store.counts() == counts
    assert edges_of(store, "HAS_TAG")[("c1", "x=low")]["value"] == 1.5


@pytest.mark.parametrize("where", ["relationship", "latest start", "latest end", "known start"])
def test_write_batch_with_missing_endpoint_writes_nothing(tagged: GraphStore, where: str):
    before, tags = tagged.counts(), edges_of(tagged, "HAS_TAG")
    latest = [tag("c1", "x=high", 3.0, "2026-09-01T00:00:00Z"),
              tag("c2", "x=mid", 2.0, "2026-09-01T00:00:00Z")]
    rels = [rel("RECEIVED", ("Customer", "c3"), ("Offer", "c3:s:1"))]
    if where == "relationship":
        rels.append(rel("RECEIVED", ("Customer", "ghost"), ("Offer", "c3:s:1")))
    elif where == "latest start":  # a start node with no edge yet (Neo4j: the CREATE path)
        latest.append(tag("ghost", "x=mid", 2.0, None))
    elif where == "latest end":
        latest.append(tag("c2", "ghost=1", 2.0, None))
    else:  # next to a start node that has edges already (Neo4j: the guarded MERGE path)
        latest.append(tag("c1", "ghost=1", 2.0, None))
    batch = WriteBatch(nodes=[cust("c3"), Node("Offer", "c3:s:1")], relationships=rels,
                       latest=latest, meta={"ingest.job.j1": "checkpoint"})
    with pytest.raises(NodeNotFoundError, match="ghost"):
        tagged.write_batch(batch)
    assert tagged.counts() == before
    assert edges_of(tagged, "HAS_TAG") == tags
    assert tagged.get_meta("ingest.job.j1") is None


def test_latest_wins_replaces_the_group_and_ignores_older(tagged: GraphStore):
    # a newer value of tag x: the edge to the old bin goes, tag y is another group
    tagged.write_batch(WriteBatch(latest=[tag("c1", "x=high", 9.0, "2026-09-01T00:00:00Z")]))
    assert edges_of(tagged, "HAS_TAG") == {
        ("c1", "x=high"): {"value": 9.0, "observed_at": "2026-09-01T00:00:00Z"},
        ("c1", "y=a"): {"value": "a"},
    }
    # older observations of x are ignored, for another bin and for the same one
    tagged.write_batch(WriteBatch(latest=[tag("c1", "x=mid", 5.0, "2026-08-01T00:00:00Z")]))
    tagged.write_batch(WriteBatch(latest=[tag("c1", "x=high", 7.0, "2026-08-01T00:00:00Z")]))
    tagged.write_batch(WriteBatch(latest=[tag("c1", "x=low", 1.0, None)]))  # missing = oldest
    assert edges_of(tagged, "HAS_TAG")[("c1", "x=high")]["value"] == 9.0
    assert len(edges_of(tagged, "HAS_TAG")) == 2
    # equal time: the new one wins; an edge without a time is replaced by any
    tagged.write_batch(WriteBatch(latest=[
        tag("c1", "x=mid", 6.0, "2026-09-01T00:00:00Z"),
        tag("c1", "y=b", "b", "2026-01-01T00:00:00Z"),
    ]))
    assert edges_of(tagged, "HAS_TAG") == {
        ("c1", "x=mid"): {"value": 6.0, "observed_at": "2026-09-01T00:00:00Z"},
        ("c1", "y=b"): {"value": "b", "observed_at": "2026-01-01T00:00:00Z"},
    }


def test_latest_wins_within_one_batch(tagged: GraphStore):
    tagged.write_batch(WriteBatch(latest=[
        tag("c2", "x=high", 3.0, "2026-09-01T00:00:00Z"),
        tag("c2", "x=low", 1.0, "2026-08-01T00:00:00Z"),  # older: dropped
        tag("c2", "y=a", "a", "2026-09-01T00:00:00Z"),
        tag("c2", "y=b", "b", "2026-09-01T00:00:00Z"),  # equal: the later one wins
        tag("c1", "x=mid", 2.0, None),  # older than c1's x=low: ignored
    ]))
    assert edges_of(tagged, "HAS_TAG") == {
        ("c1", "x=low"): {"value": 1.0, "observed_at": "2026-07-01T00:00:00Z"},
        ("c1", "y=a"): {"value": "a"},
        ("c2", "x=high"): {"value": 3.0, "observed_at": "2026-09-01T00:00:00Z"},
        ("c2", "y=b"): {"value": "b", "observed_at": "2026-09-01T00:00:00Z"},
    }


def test_latest_wins_without_group_is_one_edge_per_end_node(tagged: GraphStore):
    tagged.write_batch(WriteBatch(latest=[
        rating("c1", "domain.tv", 2.0, "2026-07-01T00:00:00Z"),
        rating("c1", "domain.tv_plus", 5.0, "2026-07-01T00:00:00Z"),
    ]))
    tagged.write_batch(WriteBatch(latest=[rating("c1", "domain.tv", 4.0, "2026-08-01T00:00:00Z")]))
    tagged.write_batch(WriteBatch(latest=[rating("c1", "domain.tv", 1.0, "2026-06-01T00:00:00Z")]))
    # domain.tv is a prefix of domain.tv_plus: without a group neither replaces the other
    assert edges_of(tagged, "RATED") == {
        ("c1", "domain.tv"): {"score": 4.0, "observed_at": "2026-08-01T00:00:00Z"},
        ("c1", "domain.tv_plus"): {"score": 5.0, "observed_at": "2026-07-01T00:00:00Z"},
    }


def test_write_batch_checks_every_record(tagged: GraphStore):
    before = tagged.counts()
    good = tag("c2", "x=low", 1.0, None)
    bad_props = LatestEdge("HAS_TAG", NodeRef("Customer", "c2"), NodeRef("TagBin", "y=a"),
                           {"bad": {"a": 1}}, group="y=")  # type: ignore[dict-item]
    with pytest.raises(UnsupportedPropertyError, match="'bad'"):
        tagged.write_batch(WriteBatch(latest=[good, bad_props], meta={"m": "v"}))
    with pytest.raises(UnknownRelationshipTypeError, match="from Customer to Need"):
        tagged.write_batch(WriteBatch(latest=[good, LatestEdge(
            "HAS_TAG", NodeRef("Customer", "c2"), NodeRef("Need", "n"))]))
    with pytest.raises(SchemaViolationError, match="prefix"):
        tagged.write_batch(WriteBatch(latest=[dataclasses.replace(good, group="y=")]))
    with pytest.raises(SchemaViolationError, match="observed_at"):
        tagged.write_batch(WriteBatch(latest=[tag("c2", "x=low", 1.0, 20260701)]))  # type: ignore[arg-type]
    with pytest.raises(SchemaViolationError, match=r"WriteBatch\.latest"):
        tagged.write_batch(WriteBatch(relationships=[good]))
    with pytest.raises(SchemaViolationError, match="LatestEdge"):
        tagged.write_batch(WriteBatch(latest=[  # type: ignore[list-item]
            rel("HAS_TAG", ("Customer", "c2"), ("TagBin", "x=low"))]))
    with pytest.raises(MissingKeyError):
        tagged.write_batch(WriteBatch(nodes=[cust("c9"), cust(" ")]))
    with pytest.raises(UnknownLabelError, match="'Custmer'"):
        tagged.write_batch(WriteBatch(nodes=[cust("c9"), Node("Custmer", "c1")]))
    with pytest.raises(UnknownRelationshipTypeError, match="from Custmer"):
        tagged.write_batch(WriteBatch(relationships=[
            rel("RECEIVED", ("Custmer", "c1"), ("Offer", "o"))]))
    assert tagged.counts() == before
    assert tagged.get_meta("m") is None
