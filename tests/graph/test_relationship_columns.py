"""Column-wise relationship export: the same relationships and values as the record stream."""

from __future__ import annotations

import pytest

from needgraph.errors import SchemaViolationError, UnknownRelationshipTypeError
from needgraph.graph.base import GraphStore
from needgraph.graph.columns import to_columns
from needgraph.graph.records import Node, NodeRef, Relationship

PROPS = ("confidence", "negated", "evidence", "span")


@pytest.fixture
def mentions(store: GraphStore) -> GraphStore:
    """Utterances mentioning causes and needs (two label pairs), with assorted property types."""
    store.upsert_nodes([Node("Utterance", f"u{i:03d}") for i in range(130)])
    store.upsert_nodes([Node("Cause", "cause.a"), Node("Cause", "cause.b"), Node("Need", "need.x")])
    rels = []
    for i in range(130):
        u = NodeRef("Utterance", f"u{i:03d}")
        props: dict[str, object] = {"confidence": 0.5 + i / 1000, "negated": i % 3 == 0}
        if i % 4 == 0:
            props["evidence"] = f"证据 {i}"
        if i % 5 == 0:
            props["span"] = [i, i + 3]
        rels.append(Relationship("MENTIONS", u, NodeRef("Cause", "cause.a"), props))
        if i % 2:
            rels.append(Relationship("MENTIONS", u, NodeRef("Need", "need.x"), {"confidence": 7}))
    store.upsert_relationships(rels)  # type: ignore[arg-type]
    return store


def _by_edge(columns) -> dict[tuple[str, str, str, str], tuple]:
    out = {}
    for cols in columns:
        assert len(cols.end_keys) == len(cols)
        assert all(len(v) == len(cols) for v in cols.props.values())
        for i, (s, e) in enumerate(zip(cols.start_keys, cols.end_keys, strict=True)):
            key = (cols.start_label, s, cols.end_label, e)
            assert key not in out, f"{key} came twice"
            out[key] = tuple(cols.props[p][i] for p in PROPS)
    return out


def test_columns_equal_the_record_stream(mentions: GraphStore):
    expected = {
        (r.start.label, r.start.key, r.end.label, r.end.key): tuple(r.props.get(p) for p in PROPS)
        for batch in mentions.iter_relationships("MENTIONS")
        for r in batch
    }
    assert len(expected) == 130 + 65
    got = _by_edge(mentions.iter_relationship_columns("MENTIONS", PROPS, batch_size=16))
    assert got == expected
    # JSON types survive: bool stays bool (not 0/1), int stays int, lists stay lists
    assert got[("Utterance", "u000", "Cause", "cause.a")] == (0.5, True, "证据 0", [0, 3])
    assert got[("Utterance", "u001", "Need", "need.x")] == (7, None, None, None)
    assert type(got[("Utterance", "u001", "Cause", "cause.a")][1]) is bool


def test_batches_hold_one_label_pair_and_respect_the_batch_size(mentions: GraphStore):
    batches = list(mentions.iter_relationship_columns("MENTIONS", ("confidence",), batch_size=16))
    pairs = {(b.start_label, b.end_label) for b in batches}
    assert pairs == {("Utterance", "Cause"), ("Utterance", "Need")}
    if mentions.backend == "sqlite":  # Neo4j pages start nodes, so only about the size
        assert max(len(b) for b in batches) == 16
    assert sum(len(b) for b in batches) == 195


def test_no_properties_and_empty_types(mentions: GraphStore):
    cols = list(mentions.iter_relationship_columns("MENTIONS"))
    assert all(c.props == {} for c in cols)
    assert sum(len(c) for c in cols) == 195
    assert list(mentions.iter_relationship_columns("HAS_TAG", ("value",))) == []


def test_nodes_written_while_paging_come_with_their_keys(store: GraphStore):
    bins = [Node("TagBin", "t=a"), Node("TagBin", "t=b")]
    store.upsert_nodes([*bins, *(Node("Customer", f"c{i:02d}") for i in range(40))])
    store.upsert_relationships(
        Relationship("HAS_TAG", NodeRef("Customer", f"c{i:02d}"), bins[i % 2].ref, {"value": i})
        for i in range(40)
    )
    seen: dict[str, object] = {}
    for n, cols in enumerate(store.iter_relationship_columns("HAS_TAG", ("value",), 10)):
        seen.update(zip(cols.start_keys, cols.props["value"], strict=True))
        if n == 0:  # a customer and a bin written after the scan began
            store.upsert_nodes([Node("Customer", "zz"), Node("TagBin", "t=new")])
            store.upsert_relationships(
                [Relationship("HAS_TAG", NodeRef("Customer", "zz"), NodeRef("TagBin", "t=new"),
                              {"value": 99})]
            )
    assert seen == {**{f"c{i:02d}": i for i in range(40)}, "zz": 99}


def test_bad_property_names_and_types_are_refused(store: GraphStore):
    with pytest.raises(SchemaViolationError, match="value'\\)"):
        store.iter_relationship_columns("HAS_TAG", ("value')",))
    with pytest.raises(UnknownRelationshipTypeError, match="LIKES"):
        store.iter_relationship_columns("LIKES")


def test_generic_fallback_groups_record_batches():
    a, b = NodeRef("Utterance", "u1"), NodeRef("Cause", "c")
    batch = [
        Relationship("MENTIONS", a, b, {"confidence": 0.3}),
        Relationship("MENTIONS", a, NodeRef("Need", "n"), {}),
    ]
    cols = list(to_columns([batch], ("confidence",)))
    assert [(c.end_label, c.end_keys, c.props["confidence"]) for c in cols] == [
        ("Cause", ["c"], [0.3]),
        ("Need", ["n"], [None]),
    ]
