"""Recommendations respect eligibility and see new outcomes at once; drivers rank causes."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.graph.records import Node, NodeRef, Relationship  # noqa: E402
from needgraph.ontology.rules import parse_rule  # noqa: E402
from needgraph.reasoning import recommend as recommend_module  # noqa: E402
from needgraph.reasoning.causes import ACTION_MIN_CONFIDENCE, MIN_CONFIDENCE  # noqa: E402
from needgraph.reasoning.drivers import drivers  # noqa: E402
from needgraph.reasoning.explain import explain  # noqa: E402
from needgraph.reasoning.export import export_graph  # noqa: E402
from needgraph.reasoning.model import ModelConfig  # noqa: E402
from needgraph.reasoning.recommend import invalidate_offers, recommend  # noqa: E402
from needgraph.reasoning.train import TrainConfig, fit  # noqa: E402
from tests.reasoning.conftest import build_store  # noqa: E402

DOMAIN = "domain.overall"
SMALL = ModelConfig(hidden=16, layers=2, dropout=0.1)
FAST = TrainConfig(lr=0.02, max_epochs=40, patience=10, threads=1)


class _Ontology:
    """The few strategies recommend() needs (duck-typed :class:`Ontology`)."""

    def __init__(self, strategies: list[Any]) -> None:
        self._by_id = {s.id: s for s in strategies}

    def by_kind(self, kind: str) -> list[Any]:
        return list(self._by_id.values()) if kind == "Strategy" else []

    def __getitem__(self, concept_id: str) -> Any:
        return self._by_id[concept_id]


def _strategy(sid: str, plans: list[str], **kw: Any) -> Any:
    rule = parse_rule({"tag": "tag.plan", "in": plans})
    return SimpleNamespace(
        id=sid,
        deprecated=False,
        eligibility=rule,
        cost=kw.get("cost", 10.0),
        resolves=kw.get("resolves", ()),
        addresses=kw.get("addresses", ()),
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory):
    store = build_store(Path(tmp_path_factory.mktemp("rec")) / "g.db", n=150, unlabelled=20)
    data, schema = export_graph(store)
    torch.manual_seed(0)
    model = fit(data, schema, torch.arange(data["customer"].num_nodes), SMALL, FAST)
    yield store, model, data
    store.close()


def test_ineligible_strategies_are_never_recommended(trained) -> None:
    store, model, data = trained
    onto = _Ontology(
        [
            _strategy("strategy.care_call", ["basic"], resolves=("cause.bill_shock",)),
            _strategy("strategy.other", ["max"]),
            _strategy("strategy.plus_only", ["plus"], addresses=("need.predictable_bill",)),
        ]
    )
    allowed = {"basic": "strategy.care_call", "max": "strategy.other", "plus": "strategy.plus_only"}
    seen = set()
    for i, key in enumerate(data["customer"].node_key[:30]):
        plan = ("basic", "plus", "max")[i % 3]
        actions = recommend(store, model, data, key, DOMAIN, k=3, ontology=onto)  # type: ignore[arg-type]
        assert [a.strategy for a in actions] == [allowed[plan]]
        a = actions[0]
        assert 0.0 <= a.acceptance_rate <= 1.0 and a.similar_offers >= 0
        assert a.sentence
        seen.add(a.strategy)
    assert seen == set(allowed.values())


def test_recommendation_applies_the_causes_it_resolves(trained) -> None:
    store, model, data = trained
    onto = _Ontology(
        [
            _strategy(
                "strategy.care_call", ["basic", "plus", "max"], resolves=("cause.bill_shock",)
            ),
            _strategy("strategy.nothing", ["basic", "plus", "max"]),
        ]
    )
    said = data["customer", "said", "utterance"].edge_index[0].tolist()
    keys = data["customer"].node_key
    p = model.predict(data).p_dissatisfied[:, 0]
    c = max(set(said), key=lambda i: float(p[i]))
    actions = recommend(store, model, data, keys[c], DOMAIN, k=2, ontology=onto)  # type: ignore[arg-type]
    by = {a.strategy: a for a in actions}
    assert by["strategy.nothing"].model_uplift == 0.0 and by["strategy.nothing"].addresses == []
    assert by["strategy.care_call"].addresses == ["cause.bill_shock"]
    assert by["strategy.care_call"].model_uplift > 0.0
    assert actions[0].strategy == "strategy.care_call"


def test_actions_address_causes_from_their_own_wider_bar(trained, monkeypatch) -> None:
    """An action addresses a cause once it passes ``ACTION_MIN_CONFIDENCE`` (0.5), below the
    bar at which an explanation names a cause (0.7 by default): acting on a likely cause is
    cheaper than asserting it."""
    assert ACTION_MIN_CONFIDENCE < MIN_CONFIDENCE
    store, model, data = trained
    onto = _Ontology(
        [_strategy("strategy.care_call", ["basic", "plus", "max"], resolves=("cause.bill_shock",))]
    )
    key = data["customer"].node_key[_complainer(model, data)]
    conf = explain(store, model, data, key, DOMAIN, min_confidence=0).confidence["cause.bill_shock"]

    def care_call(bar: float) -> Any:
        monkeypatch.setattr(recommend_module, "ACTION_MIN_CONFIDENCE", bar)
        return recommend(store, model, data, key, DOMAIN, k=1, ontology=onto)[0]  # type: ignore[arg-type]

    below, above = care_call(conf - 1e-6), care_call(conf + 1e-6)
    assert below.addresses == ["cause.bill_shock"] and below.model_uplift > 0.0
    assert above.addresses == [] and above.model_uplift == 0.0  # nothing left to fix


def _complainer(model: Any, data: Any) -> int:
    """The customer who said something and is most likely dissatisfied."""
    said = data["customer", "said", "utterance"].edge_index[0].tolist()
    p = model.predict(data).p_dissatisfied[:, 0]
    return max(set(said), key=lambda i: float(p[i]))


def test_drivers_rank_causes_with_intervals(trained) -> None:
    store, model, data = trained
    found = drivers(store, model, data, DOMAIN, {"tag.plan": "basic"}, bootstrap=50)
    assert found and found[0].cause == "cause.bill_shock"
    d = found[0]
    assert d.low <= d.contribution <= d.high and 0 < d.share_affected <= 1
    assert d.customers == 50


def test_new_outcomes_change_acceptance_rates_at_once(trained) -> None:
    store, model, data = trained
    onto = _Ontology(
        [_strategy("strategy.care_call", ["basic", "plus", "max"], resolves=("cause.bill_shock",))]
    )
    said = data["customer", "said", "utterance"].edge_index[0].tolist()
    keys = data["customer"].node_key
    p = model.predict(data).p_dissatisfied[:, 0]
    c = max(set(said), key=lambda i: float(p[i]))
    before = recommend(store, model, data, keys[c], DOMAIN, k=1, ontology=onto)[0]
    # 40 similar customers (other complainers) decline the strategy
    similar = [keys[i] for i in sorted(set(said)) if i != c][:40]
    nodes, rels = [], []
    for n, key in enumerate(similar):
        offer = ("Offer", f"{key}:strategy.care_call:declined{n}")
        nodes.append(Node(*offer, {"outcome": "declined"}))
        rels.append(Relationship("RECEIVED", NodeRef("Customer", key), NodeRef(*offer), {}))
        rels.append(
            Relationship(
                "OF_STRATEGY", NodeRef(*offer), NodeRef("Strategy", "strategy.care_call"), {}
            )
        )
    store.upsert_nodes(nodes)
    store.upsert_relationships(rels)
    cached = recommend(store, model, data, keys[c], DOMAIN, k=1, ontology=onto)[0]
    assert cached.acceptance_rate == before.acceptance_rate  # offers are cached per store
    invalidate_offers(store)
    after = recommend(store, model, data, keys[c], DOMAIN, k=1, ontology=onto)[0]
    assert after.similar_offers > before.similar_offers  # the new declines count as similar
    assert after.acceptance_rate < before.acceptance_rate - 0.1
    assert after.expected_change < before.expected_change



def test_cached_offers_go_with_their_store(tmp_path: Path) -> None:
    """Offers are cached per store object and dropped with it: a new store object (which may
    reuse a freed one's ``id``) always reads its own offers."""
    import gc
    import weakref

    from needgraph.graph.sqlite import SqliteStore
    from needgraph.ontology.graph_schema import GRAPH_SCHEMA
    from needgraph.reasoning import recommend as module

    def open_with_offer(outcome: str) -> SqliteStore:
        store = SqliteStore(str(tmp_path / f"{outcome}.db"), schema=GRAPH_SCHEMA)
        offer = NodeRef("Offer", "o1")
        store.upsert_nodes([Node("Customer", "c1"), Node("Strategy", "strategy.care_call"),
                            Node("Offer", "o1", {"outcome": outcome})])
        store.upsert_relationships([
            Relationship("RECEIVED", NodeRef("Customer", "c1"), offer, {}),
            Relationship("OF_STRATEGY", offer, NodeRef("Strategy", "strategy.care_call"), {}),
        ])
        return store

    first = open_with_offer("accepted")
    assert module._offers(first).by_strategy["strategy.care_call"] == [("c1", True, None)]
    assert first in module._OFFERS
    first.close()
    gone = weakref.ref(first)
    del first
    gc.collect()
    assert gone() is None  # the cache did not keep the store (nor its entry) alive
    second = open_with_offer("declined")
    assert module._offers(second).by_strategy["strategy.care_call"] == [("c1", False, None)]
    second.close()
