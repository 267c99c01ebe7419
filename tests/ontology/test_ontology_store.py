"""Loading into a store, versions and audit, deprecate and merge with re-linking (both backends)."""

from __future__ import annotations

import json
import re

import pytest

from needgraph.graph.base import GraphStore
from needgraph.graph.records import Node, NodeRef, Relationship
from needgraph.ontology.changes import deprecate, merge
from needgraph.ontology.core import Ontology
from needgraph.ontology.errors import (
    OntologyChangeError,
    OntologyValidationError,
    OntologyVersionError,
)
from needgraph.ontology.graph_form import data_rel_types
from needgraph.ontology.loader import load_into_store
from needgraph.ontology.model import Concept
from needgraph.ontology.versioning import audit_trail, current_version

WHO, WHY = "editor", "seed"


def _bump(ontology: Ontology, version: str, concepts: list[Concept] | None = None) -> Ontology:
    manifest = ontology.manifest.model_copy(update={"version": version})
    return ontology.replace(manifest=manifest, concepts=concepts)


def _edit(ontology: Ontology, concept_id: str, **update) -> list[Concept]:
    return [
        Concept.model_validate({**c.to_data(), **update}) if c.id == concept_id else c
        for c in ontology
    ]


def _rel(rel_type: str, start: tuple[str, str], end: tuple[str, str]) -> Relationship:
    return Relationship(rel_type, NodeRef(*start), NodeRef(*end))


def _add_customers(store: GraphStore) -> None:
    store.upsert_nodes(
        [
            Node("Customer", "c1"),
            Node("Customer", "c2"),
            Node("Utterance", "u1", {"text": "晚上一直卡"}),
            Node("Utterance", "u2", {"text": "高峰期卡顿"}),
            Node("Offer", "o1", {"outcome": "accepted"}),
        ]
    )
    store.upsert_relationships(
        [
            _rel("HAS_TAG", ("Customer", "c1"), ("TagBin", "tag.evening_latency_ms=high")),
            _rel("HAS_TAG", ("Customer", "c2"), ("TagBin", "tag.latency_p95_ms=high")),
            _rel("HAS_TAG", ("Customer", "c1"), ("TagBin", "tag.latency_p95_ms=low")),
            _rel("SAID", ("Customer", "c1"), ("Utterance", "u1")),
            _rel("SAID", ("Customer", "c2"), ("Utterance", "u2")),
            _rel("MENTIONS", ("Utterance", "u1"), ("Cause", "cause.evening_congestion")),
            _rel("MENTIONS", ("Utterance", "u2"), ("Cause", "cause.peak_hour_slowness")),
            _rel("RECEIVED", ("Customer", "c1"), ("Offer", "o1")),
            _rel("OF_STRATEGY", ("Offer", "o1"), ("Strategy", "strategy.speed_trial")),
            _rel("MEMBER_OF", ("Customer", "c2"), ("Segment", "segment.slow_fiber")),
            _rel("RATED", ("Customer", "c1"), ("Domain", "domain.home_net")),
        ]
    )


def _data_edges(store: GraphStore) -> dict[str, int]:
    counts = store.counts().relationships
    return {t: counts.get(t, 0) for t in data_rel_types(store.schema)}


def _ends(store: GraphStore, rel_type: str) -> set[tuple[str, str]]:
    return {(r.start.key, r.end.key) for batch in store.iter_relationships(rel_type) for r in batch}


def test_load_writes_every_concept_bin_and_relation(store: GraphStore, mini: Ontology):
    report = load_into_store(mini, store, who=WHO, why=WHY)
    assert report.changed and report.version == "1.0.0"
    counts = store.counts()
    bins = sum(len(c.bins) for c in mini)
    assert {k: v for k, v in counts.nodes.items() if k != "TagBin"} == mini.counts()
    assert counts.nodes["TagBin"] == bins
    expected: dict[str, int] = {}
    for _s, rel_type, _t, _p in mini.relations():
        expected[rel_type] = expected.get(rel_type, 0) + 1
    assert counts.relationships == expected
    cause = store.get_node(NodeRef("Cause", "cause.evening_congestion"))
    assert cause is not None
    assert cause.props["label_zh"] == "晚高峰拥塞"
    assert cause.props["synonyms_zh"] == ["晚上卡", "晚上网速慢"]
    assert cause.props["definition_en"] == "the network is congested at the evening peak"
    assert cause.props["deprecated"] is False
    strategy = store.get_node(NodeRef("Strategy", "strategy.mesh_extender"))
    assert strategy is not None
    assert strategy.props["cost"] == 199 and strategy.props["channel"] == "field_engineer"
    assert json.loads(str(strategy.props["eligibility"]))["all"][0]["tag"] == "tag.access_type"
    high = store.get_node(NodeRef("TagBin", "tag.evening_latency_ms=high"))
    assert high is not None and high.props["min"] == 150 and high.props.get("max") is None
    assert high.props["label_en"] == "high"
    (indicates,) = [
        r
        for batch in store.iter_relationships("INDICATES")
        for r in batch
        if r.end.key == "cause.evening_congestion"
    ]
    assert indicates.start.key == "tag.evening_latency_ms=high"
    assert indicates.props["weight"] == 0.8


def test_version_record_and_audit_trail(store: GraphStore, mini: Ontology):
    load_into_store(mini, store, who=WHO, why=WHY)
    record = current_version(store)
    assert record is not None
    assert record.version == "1.0.0" and record.previous_version is None
    assert record.content_hash == mini.content_hash()
    assert (record.who, record.why, record.operation) == (WHO, WHY, "load")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record.when)
    assert set(record.diff.added) == set(mini.concepts)
    assert json.loads(store.get_meta("ontology.version") or "")["version"] == "1.0.0"
    assert [r.version for r in audit_trail(store)] == ["1.0.0"]


def test_loading_the_same_content_again_is_a_no_op(store: GraphStore, mini: Ontology):
    load_into_store(mini, store, who=WHO, why=WHY)
    before = store.counts()
    again = load_into_store(mini, store, who="someone", why="again")
    assert not again.changed and again.record is None
    bumped_only = load_into_store(_bump(mini, "1.0.1"), store, who="x", why="y")
    assert not bumped_only.changed
    assert store.counts() == before
    assert [r.who for r in audit_trail(store)] == [WHO]


def test_changed_content_without_a_version_bump_is_refused(store: GraphStore, mini: Ontology):
    load_into_store(mini, store, who=WHO, why=WHY)
    changed = mini.replace(concepts=_edit(mini, "cause.bill_shock", synonyms={"zh": ["扣费多"]}))
    with pytest.raises(OntologyVersionError) as caught:
        load_into_store(changed, store, who=WHO, why="edit")
    assert "1.0.1" in caught.value.hint
    bill = store.get_node(NodeRef("Cause", "cause.bill_shock"))
    assert bill is not None and bill.props["synonyms_zh"] == []
    record = current_version(store)
    assert record is not None and record.content_hash == mini.content_hash()


def test_an_invalid_ontology_is_refused_with_every_problem(store: GraphStore, mini: Ontology):
    broken = mini.replace(concepts=_edit(mini, "cause.bill_shock", blocks=["need.x", "need.y"]))
    with pytest.raises(OntologyValidationError) as caught:
        load_into_store(broken, store, who=WHO, why=WHY)
    assert [p.code for p in caught.value.problems] == ["dangling-reference"] * 2
    assert store.counts().total_nodes == 0


def test_a_new_version_updates_nodes_and_removes_stale_relations(store: GraphStore, mini: Ontology):
    load_into_store(mini, store, who=WHO, why=WHY)
    concepts = _edit(mini, "cause.peak_hour_slowness", blocks=[], affects=[])
    tag = mini["tag.evening_latency_ms"].to_data()
    tag["indicates"] = [{"cause": "cause.evening_congestion", "weight": 0.9, "when": ["high"]}]
    concepts = [Concept.model_validate(tag) if c.id == tag["id"] else c for c in concepts]
    v2 = _bump(mini, "1.1.0", concepts)
    report = load_into_store(v2, store, who=WHO, why="tidy")
    assert report.changed and report.relationships_removed == 3
    assert ("cause.peak_hour_slowness", "need.stable_evening") not in _ends(store, "BLOCKS")
    assert ("cause.evening_congestion", "need.stable_evening") in _ends(store, "BLOCKS")
    weights = {
        (r.start.key, r.end.key): r.props["weight"]
        for batch in store.iter_relationships("INDICATES")
        for r in batch
    }
    assert weights[("tag.evening_latency_ms=high", "cause.evening_congestion")] == 0.9
    assert ("tag.evening_latency_ms=high", "cause.peak_hour_slowness") not in weights
    assert report.record is not None
    assert report.record.previous_version == "1.0.0"
    assert report.record.diff.changed == {
        "cause.peak_hour_slowness": ("affects", "blocks"),
        "tag.evening_latency_ms": ("indicates",),
    }
    assert store.counts().relationships["BLOCKS"] == len(
        [r for r in v2.relations() if r[1] == "BLOCKS"]
    )


def test_removed_concepts_are_deleted_only_when_unused(store: GraphStore, mini: Ontology):
    load_into_store(mini, store, who=WHO, why=WHY)
    _add_customers(store)
    gone = {"cause.wifi_dead_zone", "cause.peak_hour_slowness"}
    v2 = _bump(mini, "2.0.0", [c for c in mini if c.id not in gone])
    v2 = v2.replace(concepts=_edit(v2, "strategy.mesh_extender", resolves=[]))
    v2 = v2.replace(
        concepts=_edit(v2, "strategy.speed_trial", resolves=["cause.evening_congestion"])
    )
    indicates = [{"cause": "cause.evening_congestion", "weight": 0.8, "when": ["high"]}]
    v2 = v2.replace(concepts=_edit(v2, "tag.evening_latency_ms", indicates=indicates))
    report = load_into_store(v2, store, who=WHO, why="drop two")
    assert report.deleted == ("cause.wifi_dead_zone",)
    assert report.kept == ("cause.peak_hour_slowness",)  # u2 still mentions it
    assert store.get_node(NodeRef("Cause", "cause.wifi_dead_zone")) is None
    kept = store.get_node(NodeRef("Cause", "cause.peak_hour_slowness"))
    assert kept is not None and kept.props["deprecated"] is True
    assert kept.props["removed_in"] == "2.0.0"
    assert ("u2", "cause.peak_hour_slowness") in _ends(store, "MENTIONS")
    assert report.record is not None and report.record.details["kept"] == [
        "cause.peak_hour_slowness"
    ]


def test_deprecate_relinks_customer_data_and_bumps_the_patch(store: GraphStore, mini: Ontology):
    load_into_store(mini, store, who=WHO, why=WHY)
    _add_customers(store)
    before = _data_edges(store)
    result = deprecate(
        store, mini, "cause.peak_hour_slowness", "cause.evening_congestion", "ana", "duplicate"
    )
    assert _data_edges(store) == before  # no customer edge lost
    assert ("u2", "cause.evening_congestion") in _ends(store, "MENTIONS")
    assert all(end != "cause.peak_hour_slowness" for _, end in _ends(store, "MENTIONS"))
    assert result.relinked == 1
    old = result.ontology["cause.peak_hour_slowness"]
    assert old.deprecated and old.replaced_by == "cause.evening_congestion"
    assert result.ontology["strategy.speed_trial"].resolves == ("cause.evening_congestion",)
    assert result.ontology.manifest.version == "1.0.1"
    assert ("cause.peak_hour_slowness", "cause.evening_congestion") in _ends(store, "REPLACED_BY")
    node = store.get_node(NodeRef("Cause", "cause.peak_hour_slowness"))
    assert node is not None and node.props["deprecated"] is True
    record = current_version(store)
    assert record is not None
    assert (record.version, record.operation, record.who) == ("1.0.1", "deprecate", "ana")
    assert record.content_hash == result.ontology.content_hash()
    assert record.details["relinked"] == 1
    assert "cause.peak_hour_slowness" in record.diff.changed
    assert [r.version for r in audit_trail(store)] == ["1.0.0", "1.0.1"]


def test_deprecating_a_tag_moves_customers_to_the_same_bins(store: GraphStore, mini: Ontology):
    load_into_store(mini, store, who=WHO, why=WHY)
    _add_customers(store)
    before = _data_edges(store)
    result = deprecate(store, mini, "tag.latency_p95_ms", "tag.evening_latency_ms", WHO, "same")
    assert _data_edges(store) == before
    has_tag = _ends(store, "HAS_TAG")
    assert has_tag == {
        ("c1", "tag.evening_latency_ms=high"),
        ("c2", "tag.evening_latency_ms=high"),
        ("c1", "tag.evening_latency_ms=low"),
    }
    rule = result.ontology["segment.slow_fiber"].rule
    assert rule is not None and "tag.latency_p95_ms" not in rule.tags()


def test_merge_moves_every_relationship_and_removes_the_source(store: GraphStore, mini: Ontology):
    load_into_store(mini, store, who=WHO, why=WHY)
    _add_customers(store)
    before = _data_edges(store)
    result = merge(store, mini, "cause.peak_hour_slowness", "cause.evening_congestion", WHO, "dup")
    assert _data_edges(store) == before
    assert store.get_node(NodeRef("Cause", "cause.peak_hour_slowness")) is None
    assert "cause.peak_hour_slowness" not in result.ontology
    assert ("u2", "cause.evening_congestion") in _ends(store, "MENTIONS")
    survivor = result.ontology["cause.evening_congestion"]
    assert "高峰时段慢" in survivor.synonyms.zh and "peak-hour slowness" in survivor.synonyms.en
    survivor_node = store.get_node(NodeRef("Cause", "cause.evening_congestion"))
    assert survivor_node is not None and "高峰期卡顿" in survivor_node.props["synonyms_zh"]
    assert ("strategy.speed_trial", "cause.evening_congestion") in _ends(store, "RESOLVES")
    record = current_version(store)
    assert record is not None and (record.version, record.operation) == ("1.0.1", "merge")
    assert record.diff.removed == ("cause.peak_hour_slowness",)
    assert store.counts().relationships == {
        **{t: n for t, n in before.items() if n},
        **_ontology_counts(result.ontology),
    }


def _ontology_counts(ontology: Ontology) -> dict[str, int]:
    counts: dict[str, int] = {}
    for _s, rel_type, _t, _p in ontology.relations():
        counts[rel_type] = counts.get(rel_type, 0) + 1
    return counts


def test_merge_refuses_tags_whose_bins_have_no_counterpart(store: GraphStore, mini: Ontology):
    load_into_store(mini, store, who=WHO, why=WHY)
    _add_customers(store)
    before = store.counts()
    with pytest.raises(OntologyChangeError) as caught:
        merge(store, mini, "tag.extra_charges", "tag.evening_latency_ms", WHO, "no")
    assert "none, some" in caught.value.detail
    assert store.counts() == before
    record = current_version(store)
    assert record is not None and record.version == "1.0.0"


@pytest.mark.parametrize(
    ("source", "target", "message"),
    [
        ("cause.bill_shock", "need.predictable_bill", "is a Cause but"),
        ("cause.nope", "cause.bill_shock", "not in the ontology"),
        ("cause.bill_shock", "cause.bill_shock", "cannot replace itself"),
    ],
)
def test_change_checks_come_before_any_change(
    store: GraphStore, mini: Ontology, source, target, message
):
    load_into_store(mini, store, who=WHO, why=WHY)
    before = store.counts()
    with pytest.raises(OntologyChangeError, match=message):
        deprecate(store, mini, source, target, WHO, "x")
    assert store.counts() == before


def test_changes_need_the_store_to_hold_this_ontology(store: GraphStore, mini: Ontology):
    with pytest.raises(OntologyChangeError, match="holds no ontology"):
        merge(store, mini, "cause.peak_hour_slowness", "cause.evening_congestion", WHO, "x")
    load_into_store(mini, store, who=WHO, why=WHY)
    other = _bump(mini, "1.0.5", _edit(mini, "cause.bill_shock", synonyms={"en": ["surprise"]}))
    with pytest.raises(OntologyChangeError, match=r"holds version 1\.0\.0"):
        merge(store, other, "cause.peak_hour_slowness", "cause.evening_congestion", WHO, "x")
