"""The write token: every public write of nodes or relationships changes it, on both stores."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from needgraph.errors import NodeNotFoundError
from needgraph.graph.base import WRITE_TOKEN_META, GraphStore
from needgraph.graph.batch import WriteBatch
from needgraph.graph.records import Node, NodeRef, Relationship

C1, C2 = NodeRef("Customer", "c1"), NodeRef("Customer", "c2")
BIN = NodeRef("TagBin", "tag.plan=max")


@pytest.fixture
def tagged(store: GraphStore) -> GraphStore:
    store.upsert_nodes([Node("Customer", "c1"), Node("Customer", "c2"), Node("TagBin", BIN.key)])
    store.upsert_relationships([Relationship("HAS_TAG", C1, BIN, {"value": 1.0})])
    return store


WRITES: dict[str, Callable[[GraphStore], object]] = {
    "upsert_nodes": lambda s: s.upsert_nodes([Node("Customer", "c1", {"age": 40})]),
    "upsert_relationships": lambda s: s.upsert_relationships(
        [Relationship("HAS_TAG", C2, BIN, {"value": 2.0})]
    ),
    "write_batch": lambda s: s.write_batch(WriteBatch(nodes=[Node("Customer", "c3")])),
    "delete_node": lambda s: s.delete_node(C2),
    "relink": lambda s: s.relink(C1, C2),
    "merge_nodes": lambda s: s.merge_nodes(C1, C2),
    "clear": lambda s: s.clear(),
}


@pytest.mark.parametrize("write", sorted(WRITES))
def test_every_write_changes_the_token(tagged: GraphStore, write: str):
    before = tagged.write_token()
    assert before is not None
    WRITES[write](tagged)
    after = tagged.write_token()
    assert after is not None
    assert after != before
    WRITES["upsert_nodes"](tagged)  # the same write again still gives a new token
    assert tagged.write_token() not in {before, after}


def test_reads_and_metadata_leave_the_token(tagged: GraphStore):
    token = tagged.write_token()
    tagged.set_meta("ingest.job.x", "checkpoint")
    tagged.get_node(C1)
    tagged.counts()
    list(tagged.iter_relationships("HAS_TAG"))
    list(tagged.iter_relationship_columns("HAS_TAG", ("value",)))
    assert tagged.write_token() == token


def test_a_write_failing_half_way_still_changes_the_token(tagged: GraphStore):
    token = tagged.write_token()
    good = Relationship("HAS_TAG", C2, BIN, {"value": 3.0})
    missing = Relationship("HAS_TAG", NodeRef("Customer", "nobody"), BIN, {})
    with pytest.raises(NodeNotFoundError, match="nobody"):
        tagged.upsert_relationships([good, missing], batch_size=1)  # the first batch commits
    assert tagged.get_nodes("Customer", ["c2"])  # sanity: the store still answers
    assert tagged.write_token() != token


def test_an_atomic_batch_that_fails_keeps_data_and_token(tagged: GraphStore):
    token = tagged.write_token()
    batch = WriteBatch(
        nodes=[Node("Customer", "c9")],
        relationships=[Relationship("HAS_TAG", NodeRef("Customer", "nobody"), BIN, {})],
    )
    with pytest.raises(NodeNotFoundError):
        tagged.write_batch(batch)
    assert tagged.get_node(NodeRef("Customer", "c9")) is None
    assert tagged.write_token() == token  # nothing was written, so nothing changed


def test_clear_leaves_only_a_fresh_token(tagged: GraphStore):
    tagged.set_meta("ontology.version", "1")
    tagged.clear()
    assert tagged.get_meta("ontology.version") is None
    assert tagged.counts().total_relationships == 0
    assert tagged.get_meta(WRITE_TOKEN_META) == tagged.write_token() is not None


def _drop_token(store: GraphStore) -> None:
    """What a store written only by an older needgraph looks like: no token entry."""
    if store.backend == "sqlite":
        store._db.execute("DELETE FROM meta WHERE name = ?", (WRITE_TOKEN_META,))  # type: ignore[attr-defined]
    else:
        store._write(  # type: ignore[attr-defined]
            "MATCH (m:NeedgraphMeta {name: $name}) DELETE m", name=WRITE_TOKEN_META
        )


def test_a_store_without_token_gets_one_on_demand(tagged: GraphStore):
    _drop_token(tagged)
    assert tagged.write_token() is None
    token = tagged.ensure_write_token()
    assert tagged.write_token() == token
    assert tagged.ensure_write_token() == token  # stored once, then only read


def test_identity_is_stable_across_connections(store: GraphStore):
    if store.backend == "sqlite":
        from needgraph.graph.sqlite import SqliteStore

        again = SqliteStore(store.path, schema=store.schema)  # type: ignore[attr-defined]
        try:
            assert again.identity() == store.identity()
        finally:
            again.close()
        assert store.identity().startswith("sqlite:////")  # an absolute path
    else:
        assert store.identity() == store.describe()
