"""The concept model: bins, rules, relations, content hash."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from needgraph.ontology.core import Ontology
from needgraph.ontology.graph_form import ontology_relationships
from needgraph.ontology.graph_schema import GRAPH_SCHEMA
from needgraph.ontology.io_yaml import read_yaml
from needgraph.ontology.rules import evaluate_rule, parse_rule
from tests.ontology.conftest import ACTIONS, CORE, MANIFEST, TAGS


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 12 ", "low"),
        (49.999, "low"),
        (50, "mid"),
        ("149.9", "mid"),
        (150, "high"),
        ("1,234.5", "high"),
        ("１８０", "high"),
        ("-3", "low"),
        ("abc", None),
        ("", None),
        (None, None),
        (True, None),
        (float("nan"), None),
    ],
)
def test_numeric_bins_are_lower_inclusive_and_tolerant(mini: Ontology, raw, expected):
    assert mini["tag.evening_latency_ms"].bin_for(raw) == expected


@pytest.mark.parametrize(
    ("tag", "raw", "expected"),
    [
        ("tag.access_type", " ftth ", "fiber"),
        ("tag.access_type", "FIBER OPTIC", "fiber"),
        ("tag.access_type", "光纤", "fiber"),
        ("tag.access_type", "adsl", "dsl"),
        ("tag.access_type", "copper", None),
        ("tag.open_complaint", "YES", "yes"),
        ("tag.open_complaint", 1, "yes"),
        ("tag.open_complaint", 0.0, "no"),
        ("tag.open_complaint", False, "no"),
        ("tag.open_complaint", " 否 ", "no"),
        ("tag.open_complaint", "maybe", None),
        ("tag.network", "anything", None),
    ],
)
def test_categorical_and_boolean_bins_match_trimmed_case_insensitive(
    mini: Ontology, tag: str, raw, expected
):
    assert mini[tag].bin_for(raw) == expected


def test_eligibility_rule_is_data_and_evaluates(mini: Ontology):
    rule = mini["strategy.mesh_extender"].eligibility
    assert rule is not None
    assert rule.tags() == {"tag.access_type", "tag.open_complaint"}
    assert rule.evaluate({"tag.access_type": "fiber"})
    assert rule.evaluate({"tag.access_type": "fiber", "tag.open_complaint": "no"})
    assert not rule.evaluate({"tag.access_type": "fiber", "tag.open_complaint": "yes"})
    assert not rule.evaluate({"tag.access_type": "dsl"})
    assert not rule.evaluate({})
    assert rule.to_data() == {
        "all": [
            {"tag": "tag.access_type", "in": ["fiber"]},
            {"not": {"tag": "tag.open_complaint", "in": ["yes"]}},
        ]
    }


def test_segment_rule_with_any_and_missing_rule_means_everyone(mini: Ontology):
    rule = mini["segment.slow_fiber"].rule
    assert rule is not None
    assert rule.evaluate({"tag.access_type": "fiber", "tag.latency_p95_ms": "high"})
    assert not rule.evaluate({"tag.access_type": "fiber", "tag.latency_p95_ms": "low"})
    assert evaluate_rule(None, {})
    assert not parse_rule({"any": []}).evaluate({"tag.x": "a"})
    assert parse_rule({"all": []}).evaluate({})


def test_by_kind_and_counts(mini: Ontology):
    assert [c.id for c in mini.by_kind("Need")] == [
        "need.predictable_bill",
        "need.stable_evening",
        "need.whole_home_coverage",
    ]
    assert mini.counts() == {
        "Cause": 5,
        "Domain": 2,
        "Need": 3,
        "Segment": 1,
        "Strategy": 2,
        "Tag": 6,
    }


def test_relations_use_the_graph_form_types(mini: Ontology):
    relations = mini.relations()
    assert ("cause.evening_congestion", "BLOCKS", "need.stable_evening", {}) in relations
    assert ("cause.evening_congestion", "AFFECTS", "domain.home_net", {}) in relations
    assert ("cause.evening_congestion", "BROADER", "cause.network_problem", {}) in relations
    assert ("need.stable_evening", "CONCERNS", "domain.home_net", {}) in relations
    assert ("tag.evening_latency_ms", "SUB_TAG_OF", "tag.network", {}) in relations
    assert ("tag.latency_p95_ms", "DERIVED_FROM", "tag.evening_latency_ms", {}) in relations
    assert ("tag.evening_latency_ms=high", "BIN_OF", "tag.evening_latency_ms", {}) in relations
    assert (
        "tag.evening_latency_ms=high",
        "INDICATES",
        "cause.evening_congestion",
        {"weight": 0.8},
    ) in relations
    assert ("strategy.mesh_extender", "ADDRESSES", "need.whole_home_coverage", {}) in relations
    assert ("strategy.mesh_extender", "RESOLVES", "cause.wifi_dead_zone", {}) in relations
    assert relations == sorted(relations, key=lambda r: r[:3])
    for rel in ontology_relationships(mini):  # every relation fits the store's schema
        GRAPH_SCHEMA.check_relationship(rel)


def _shuffled_single_file() -> str:
    """The mini ontology as one file: concepts in another order, keys and lists reordered."""
    concepts = ACTIONS + TAGS.removeprefix("concepts:\n") + CORE.removeprefix("concepts:\n")
    concepts = concepts.replace(
        "    label: {zh: 晚高峰拥塞, en: evening congestion}\n",
        "    label: {en: evening congestion, zh: 晚高峰拥塞}\n",
    ).replace("zh: [晚上卡, 晚上网速慢]", "zh: [晚上网速慢, 晚上卡, 晚上卡]")
    concepts = concepts.replace(
        "resolves: [cause.evening_congestion, cause.peak_hour_slowness]",
        "resolves: [cause.peak_hour_slowness, cause.evening_congestion]",
    )
    return concepts + "\n" + MANIFEST


def test_content_hash_ignores_layout_order_and_version(
    mini: Ontology, make_dir: Callable[..., Path]
):
    one_file = make_dir(base={"all.yaml": _shuffled_single_file()})
    other = read_yaml(one_file / "all.yaml")
    assert other.provenance.problems == ()
    assert other == mini
    assert other.content_hash() == mini.content_hash()
    bumped = mini.replace(manifest=mini.manifest.model_copy(update={"version": "9.0.0"}))
    assert bumped.content_hash() == mini.content_hash()


def test_content_hash_changes_with_content(mini: Ontology):
    cause = mini["cause.bill_shock"]
    changed = cause.model_copy(
        update={"synonyms": cause.synonyms.model_copy(update={"zh": ("扣费多",)})}
    )
    other = mini.replace(concepts=[changed if c.id == cause.id else c for c in mini])
    assert other.content_hash() != mini.content_hash()
    assert other != mini


def test_no_service_domain_is_named_in_the_code():
    root = Path(__file__).resolve().parents[2] / "needgraph"
    files = [p for p in (root / "ontology").glob("*.py") if p.name != "graph_schema.py"]
    for path in [*files, root / "cli" / "ontology.py"]:
        text = path.read_text(encoding="utf-8").lower()
        for word in ("tariff", "broadband", "wireless"):
            assert word not in text, f"{path.name} names {word!r}; domains come from files only"
