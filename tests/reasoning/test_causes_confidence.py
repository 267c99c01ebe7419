"""Cause confidence: label likelihood ratios, noisy-OR over independent evidence, thresholds."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.reasoning.causes import ConceptIndex, score_causes  # noqa: E402
from needgraph.reasoning.confidence import EvidenceStats, attributable_fraction  # noqa: E402
from needgraph.reasoning.star import EvidenceItem  # noqa: E402
from tests.reasoning.conftest import build_store  # noqa: E402

DOMAIN = "domain.overall"


def _flat(value: float) -> Any:
    return lambda i, cause, link: value


def test_two_independent_items_outrank_one_equally_attributed_item() -> None:
    # x has two items, y one, every item equally attributed and equally telling (excess 0.6)
    links = [{"cause.x": 1.0}, {"cause.x": 1.0}, {"cause.y": 1.0}]
    found = score_causes(links, [1.0, 1.0, 1.0], _flat(0.6), min_confidence=0.0, relative=0.0)
    assert [c for c, _ in found.ranked] == ["cause.x", "cause.y"]
    assert found.confidence["cause.x"] == pytest.approx(1 - 0.4 * 0.4)  # noisy-OR: 0.84
    assert found.confidence["cause.y"] == pytest.approx(0.6)
    # with the defaults y (0.6 < 0.8 x 0.84) is not reported: fewer, right causes
    assert [c for c, _ in score_causes(links, [1.0, 1.0, 1.0], _flat(0.6)).ranked] == ["cause.x"]
    # removing one of x's items lowers x's confidence to y's
    fewer = score_causes(links, [1.0, 0.0, 1.0], _flat(0.6), min_confidence=0.0, relative=0.0)
    assert fewer.confidence["cause.x"] == pytest.approx(0.6)


def test_coincidental_evidence_gives_no_strong_driver() -> None:
    # a large attribution on an item that is as common among satisfied customers: no cause
    links = [{"cause.x": 1.0}]
    found = score_causes(links, [3.0], _flat(0.0))
    assert found.ranked == [] and found.paths == {}
    assert found.confidence == {"cause.x": 0.0}
    # an item the model does not use (attribution <= 0) speaks for nothing, however telling
    assert score_causes(links, [-1.0], _flat(0.9)).ranked == []


def test_attributable_fraction_follows_the_labels() -> None:
    # 30% of dissatisfied vs 10% of satisfied customers: LR 3 -> 2/3 of occurrences are real
    assert attributable_fraction(300, 300, 1000, 3000) == pytest.approx(2 / 3, abs=0.01)
    assert attributable_fraction(100, 300, 1000, 3000) == pytest.approx(0.0, abs=1e-9)
    assert attributable_fraction(10, 900, 1000, 3000) == 0.0  # more common among satisfied
    # a handful of counts is shrunk towards "no evidence"
    assert attributable_fraction(2, 0, 1000, 3000) < attributable_fraction(200, 0, 1000, 3000)


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from needgraph.reasoning.export import export_graph

    store = build_store(Path(tmp_path_factory.mktemp("conf")) / "g.db")
    data, schema = export_graph(store)
    yield data, list(schema.domains)
    store.close()


def test_evidence_stats_read_the_exported_labels(exported: Any) -> None:
    data, domains = exported
    stats = EvidenceStats(data, domains)
    # the toy graph: the basic plan lowers the score, the max plan and high usage raise it
    basic, top = stats.tag("tag.plan=basic", DOMAIN), stats.tag("tag.plan=max", DOMAIN)
    assert basic is not None and top is not None
    assert basic > 0.5 and top == 0.0
    assert stats.tag("tag.plan=basic", "domain.tariff") is None  # no labels for tariff
    # the concept index uses them, the ontology link weight where labels are missing, and a
    # text mention's own linker confidence (words do not fall into a range by chance)
    concepts = ConceptIndex(data, None, domains)
    item = EvidenceItem("tag", "tag.usage=high", ("tag_bin", "rev_has_tag", "customer"), 0)
    assert concepts.excess(item, "cause.bill_shock", DOMAIN, 0.7) == 0.0  # a decoy here
    assert concepts.excess(item, "cause.bill_shock", "domain.tariff", 0.7) == 0.7
    assert ConceptIndex(data, None).excess(item, "cause.bill_shock", DOMAIN, 0.7) == 0.7
    said = EvidenceItem("utterance", "C0001:u1", ("utterance", "rev_said", "customer"), 0)
    assert concepts.excess(said, "cause.bill_shock", DOMAIN, 0.9) == 0.9
