"""A small synthetic cognitive graph whose satisfaction depends on tag bins, offers and text."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from needgraph.graph.base import GraphStore
from needgraph.graph.records import Node, NodeRef, Properties, Relationship
from needgraph.graph.sqlite import SqliteStore
from needgraph.ontology.graph_schema import GRAPH_SCHEMA

EMB_DIM = 8
PLANS = ("basic", "plus", "max")
COMPLAINT = [1.0 if i < EMB_DIM // 2 else 0.0 for i in range(EMB_DIM)]
PRAISE = [0.0 if i < EMB_DIM // 2 else 1.0 for i in range(EMB_DIM)]


def _rel(rel_type: str, start: tuple[str, str], end: tuple[str, str], **props) -> Relationship:
    return Relationship(rel_type, NodeRef(*start), NodeRef(*end), dict(props))


def _concept(label: str, key: str, name: str, **props) -> Node:
    base: Properties = {"label_en": name, "label_zh": name}
    base.update(props)
    return Node(label, key, base)


def _usage_bin(usage: float) -> str:
    return "low" if usage < 30 else "mid" if usage < 70 else "high"


def _ontology() -> tuple[list[Node], list[Relationship]]:
    nodes = [
        _concept("Domain", "domain.overall", "overall"),
        _concept("Domain", "domain.tariff", "tariff"),
        _concept("Tag", "tag.root", "tags", value_type="group"),
        _concept("Tag", "tag.plan", "plan", value_type="categorical"),
        _concept("Tag", "tag.usage", "usage", value_type="numeric"),
        _concept("Cause", "cause.bill_shock", "bill shock"),
        _concept("Need", "need.predictable_bill", "predictable bill"),
        _concept("Strategy", "strategy.care_call", "care call"),
    ]
    cause = ("Cause", "cause.bill_shock")
    rels = [
        _rel("SUB_TAG_OF", ("Tag", "tag.plan"), ("Tag", "tag.root")),
        _rel("SUB_TAG_OF", ("Tag", "tag.usage"), ("Tag", "tag.root")),
        _rel("AFFECTS", cause, ("Domain", "domain.tariff")),
        _rel("BLOCKS", cause, ("Need", "need.predictable_bill")),
        _rel("RESOLVES", ("Strategy", "strategy.care_call"), cause),
        _rel("INDICATES", ("TagBin", "tag.usage=high"), cause, weight=0.7),
    ]
    for tag, bins in (("tag.plan", PLANS), ("tag.usage", ("low", "mid", "high"))):
        for b in bins:
            nodes.append(_concept("TagBin", f"{tag}={b}", b))
            rels.append(_rel("BIN_OF", ("TagBin", f"{tag}={b}"), ("Tag", tag)))
    return nodes, rels


def build_store(
    path: Path, n: int = 240, unlabelled: int = 40, seed: int = 0, with_text: bool = True
) -> SqliteStore:
    """Customers whose 1-5 score follows their plan bin, usage value, offer and complaint.

    The last ``unlabelled`` customers (by key) have no ``RATED`` edge. ``domain.tariff`` exists
    and is linked to a cause but has no labels.
    """
    rng = random.Random(seed)
    store = SqliteStore(path, schema=GRAPH_SCHEMA)
    store.setup_schema()
    nodes, rels = _ontology()
    for i in range(n):
        cid = f"C{i:04d}"
        cust = ("Customer", cid)
        plan, usage = PLANS[i % 3], rng.uniform(0, 100)
        offered = rng.random() < 0.3
        complains = with_text and rng.random() < 0.3
        score = {"basic": 2.0, "plus": 3.0, "max": 4.5}[plan] + (usage - 50) / 50
        score += (0.7 if offered else 0.0) - (1.2 if complains else 0.0)
        score = min(5.0, max(1.0, round(score + rng.gauss(0, 0.3))))
        nodes.append(Node("Customer", cid, {"source": "synthetic"}))
        rels.append(_rel("HAS_TAG", cust, ("TagBin", f"tag.plan={plan}"), value=plan))
        usage_bin = ("TagBin", f"tag.usage={_usage_bin(usage)}")
        rels.append(_rel("HAS_TAG", cust, usage_bin, value=usage))
        if offered:
            offer = ("Offer", f"{cid}:strategy.care_call:1")
            nodes.append(Node(*offer, {"outcome": "accepted"}))
            rels.append(_rel("RECEIVED", cust, offer))
            rels.append(_rel("OF_STRATEGY", offer, ("Strategy", "strategy.care_call")))
        if with_text and (complains or rng.random() < 0.2):
            utt = ("Utterance", f"{cid}:u{i}")
            text = "my bill doubled again" if complains else "all good, thanks"
            emb = COMPLAINT if complains else PRAISE
            nodes.append(Node(*utt, {"text": text, "lang": "en", "embedding": emb}))
            rels.append(_rel("SAID", cust, utt))
            if complains:
                rels.append(_rel("MENTIONS", utt, ("Cause", "cause.bill_shock"), confidence=0.9))
        if i < n - unlabelled:
            rels.append(_rel("RATED", cust, ("Domain", "domain.overall"), score=score))
    store.upsert_nodes(nodes)
    store.upsert_relationships(rels)
    return store


@pytest.fixture
def synthetic_store(tmp_path: Path) -> Iterator[SqliteStore]:
    store = build_store(tmp_path / "graph.db")
    yield store
    store.close()


def fill_store(target: GraphStore, tmp_path: Path, **kwargs: object) -> GraphStore:
    """Copy the synthetic graph of :func:`build_store` into ``target`` (any backend)."""
    source = build_store(tmp_path / "source.db", **kwargs)  # type: ignore[arg-type]
    for label in GRAPH_SCHEMA.labels:
        for batch in source.iter_nodes(label):
            target.upsert_nodes(batch)
    for rel_type in GRAPH_SCHEMA.relationships:
        for rels in source.iter_relationships(rel_type):
            target.upsert_relationships(rels)
    source.close()
    return target
