"""The embedded store's relationship reads look relationships up by their start node.

SQLite's planner, given a few start keys and a list of types, preferred scanning every
relationship of those types (an index on ``type``): re-reading one customer's four utterances
took 53 ms to 0.6 s at 100k customers instead of 0.3 ms. These tests read the plan of every
statement a read runs, so a change to the SQL cannot bring that back unnoticed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from needgraph.graph.records import Node, NodeRef, PathStep, Relationship
from needgraph.graph.sqlite import SqliteStore
from needgraph.ontology.graph_schema import GRAPH_SCHEMA


def plans_of(store: SqliteStore, read: Callable[[], object]) -> list[list[str]]:
    """The query plan (one line per step) of each SELECT that ``read`` runs."""
    seen: list[str] = []
    store._db.set_trace_callback(seen.append)
    try:
        read()
    finally:
        store._db.set_trace_callback(None)
    return [[row[3] for row in store._db.execute("EXPLAIN QUERY PLAN " + sql)]
            for sql in seen if sql.lstrip().upper().startswith("SELECT")]


def test_outgoing_finds_relationships_through_their_start_nodes(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.db", schema=GRAPH_SCHEMA)
    store.setup_schema()
    said = [NodeRef("Utterance", f"u{i}") for i in range(4)]
    store.upsert_nodes([Node("Customer", "c1"), Node("Cause", "cause.x"),
                        *(Node(u.label, u.key, {"text": "slow"}) for u in said)])
    store.upsert_relationships(
        [Relationship("SAID", NodeRef("Customer", "c1"), u) for u in said]
        + [Relationship("MENTIONS", u, NodeRef("Cause", "cause.x"), {"confidence": 0.9})
           for u in said])
    plans = plans_of(store, lambda: store.outgoing(said, ["MENTIONS", "OF_STRATEGY"]))
    plans += plans_of(store, lambda: store.outgoing([NodeRef("Customer", "c1")],
                                                    ["HAS_TAG", "SAID", "RECEIVED", "RATED"],
                                                    end_props=["Utterance", "Offer"]))
    assert len(plans) == 2
    for plan in plans:
        on_rels = [step for step in plan if step.startswith(("SEARCH r ", "SCAN r "))]
        assert on_rels and all("rels_by_src (src=? AND type=?)" in s for s in on_rels), plan
    assert len(store.outgoing(said, ["MENTIONS"]).relationships) == 4
    store.close()


def test_neighbourhoods_expand_through_the_frontiers_relationships(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "g.db", schema=GRAPH_SCHEMA)
    store.setup_schema()
    store.upsert_nodes([Node("Customer", "c1"), Node("Cause", "cause.x"),
                        *(Node("Utterance", f"u{i}") for i in range(4))])
    store.upsert_relationships(
        [Relationship("SAID", NodeRef("Customer", "c1"), NodeRef("Utterance", f"u{i}"))
         for i in range(4)]
        + [Relationship("MENTIONS", NodeRef("Utterance", f"u{i}"), NodeRef("Cause", "cause.x"))
           for i in range(4)])
    customer, cause = NodeRef("Customer", "c1"), NodeRef("Cause", "cause.x")
    for centre, types, direction in ((customer, ["SAID", "MENTIONS"], "out"),
                                     (customer, ["SAID"], "both"),  # one type, four utterances
                                     (cause, ["MENTIONS"], "in"),
                                     (cause, None, "both")):
        plans = plans_of(store, lambda c=centre, t=types, d=direction: store.neighbourhood(
            c, 2, rel_types=t, direction=d))
        steps = [step for plan in plans for step in plan if " r " in step]
        assert steps and all("rels_by_src" in s or "rels_by_dst" in s for s in steps), steps
    found = store.neighbourhood(customer, 2, rel_types=["SAID", "MENTIONS"], direction="out")
    assert {n.key for n in found.nodes} == {"u0", "u1", "u2", "u3", "cause.x"}
    store.close()


def test_typed_paths_walk_from_their_start_node(tmp_path: Path) -> None:
    """A path is followed hop by hop from its start; before, the planner began a [SAID, MENTIONS]
    walk by scanning every MENTIONS relationship in the store."""
    store = SqliteStore(tmp_path / "g.db", schema=GRAPH_SCHEMA)
    store.setup_schema()
    store.upsert_nodes([Node("Customer", "c1"), Node("Utterance", "u1"), Node("Cause", "cause.x"),
                        Node("Need", "need.y")])
    store.upsert_relationships([
        Relationship("SAID", NodeRef("Customer", "c1"), NodeRef("Utterance", "u1")),
        Relationship("MENTIONS", NodeRef("Utterance", "u1"), NodeRef("Cause", "cause.x")),
        Relationship("BLOCKS", NodeRef("Cause", "cause.x"), NodeRef("Need", "need.y"))])
    walks = [
        (NodeRef("Customer", "c1"), [PathStep("SAID"), PathStep("MENTIONS"), PathStep("BLOCKS")]),
        (NodeRef("Need", "need.y"), [PathStep("BLOCKS", "in"), PathStep("MENTIONS", "in")]),
        (NodeRef("Cause", "cause.x"), [PathStep("MENTIONS", "both"), PathStep("SAID", "both")]),
    ]
    for start, steps in walks:
        (plan,) = plans_of(store, lambda s=start, p=steps: store.paths(s, p))
        on_rels = [step for step in plan if step.startswith("SEARCH r")]
        assert len(on_rels) >= len(steps), plan
        assert all("rels_by_src" in s or "rels_by_dst" in s for s in on_rels), plan
        (path,) = store.paths(start, steps)
        assert len(path.nodes) == len(steps) + 1
    store.close()


def test_relinking_reads_only_the_nodes_relationships(tmp_path: Path) -> None:
    """Moving a node's relationships of one type (an ontology load does it per changed concept)
    reads that node's relationships, not every relationship of the type."""
    store = SqliteStore(tmp_path / "g.db", schema=GRAPH_SCHEMA)
    store.setup_schema()
    store.upsert_nodes([Node("Customer", "c1"), Node("Customer", "c2"), Node("TagBin", "t=a"),
                        Node("TagBin", "t=b")])
    store.upsert_relationships([
        Relationship("HAS_TAG", NodeRef("Customer", c), NodeRef("TagBin", "t=a"), {"value": 1.0})
        for c in ("c1", "c2")])
    seen: list[str] = []
    store._db.set_trace_callback(seen.append)
    moved = store.relink(NodeRef("TagBin", "t=a"), NodeRef("TagBin", "t=b"), ["HAS_TAG"])
    store._db.set_trace_callback(None)
    assert moved == 2
    statements = [sql for sql in seen if sql.lstrip().upper().startswith(
        ("INSERT INTO RELS", "DELETE FROM RELS"))]
    assert len(statements) == 4
    for sql in statements:
        plan = [row[3] for row in store._db.execute("EXPLAIN QUERY PLAN " + sql)]
        reads = [step for step in plan if "rels" in step and step.startswith("SEARCH")]
        assert reads and all("rels_by_src" in s or "rels_by_dst" in s for s in reads), plan
    assert {r.end.key for r in store.outgoing([NodeRef("Customer", "c1")], ["HAS_TAG"])
            .relationships} == {"t=b"}
    store.close()
