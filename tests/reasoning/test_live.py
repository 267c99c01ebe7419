"""Real-time events: record -> refresh one customer's star -> predict -> recommend, no retraining.

A tiny graph is ingested through the real ingest job (generator file names, the tiny ontology of
``tests.ingest.conftest``, the real lexicon-only text linker): a complaint about evening
congestion lowers the home-broadband score, a high monthly charge lowers it too. A tiny model is
really trained on it once per module and saved; every test opens its own copy of the store with
:meth:`Reasoner.open`.
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.errors import CustomerNotFoundError  # noqa: E402
from needgraph.graph.base import GraphStore  # noqa: E402
from needgraph.graph.sqlite import SqliteStore  # noqa: E402
from needgraph.ingest.events import Event, EventKind, Outcome, OutcomeStatus  # noqa: E402
from needgraph.ingest.jobs import JobOptions, run_ingest  # noqa: E402
from needgraph.ingest.text_port import TextPipeline  # noqa: E402
from needgraph.ontology.graph_schema import GRAPH_SCHEMA  # noqa: E402
from needgraph.reasoning.live import apply_event, apply_outcome  # noqa: E402
from needgraph.reasoning.runtime import Reasoner, star_prediction  # noqa: E402
from tests.ingest.conftest import (  # noqa: E402
    load_ontology,
    tiny_ontology,
    write_csv,
    write_jsonl,
)

N_CUSTOMERS = 120
Trained = tuple[Path, Path, dict[str, dict[str, Any]]]
UNLABELLED = 20
COMPLAINTS = ("slow in the evening, videos keep buffering", "宽带一到晚上卡得不行")
BROADBAND = "domain.home_broadband"
OVERALL = "domain.overall"


@lru_cache(maxsize=1)
def linker() -> TextPipeline:
    """The real text linker over the tiny ontology, lexicon only (spaCy loads once)."""
    from needgraph.ingest.text import Lexicon, TextLinker

    return TextPipeline(TextLinker(Lexicon.from_ontology(tiny_ontology()), None))


def customer_id(i: int) -> str:
    """Key of the ``i``-th customer."""
    return f"L{i:03d}"


def write_dataset(folder: Path, seed: int = 0) -> dict[str, dict[str, Any]]:
    """Write the generator-style files; return the truth per customer."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    tags, texts, offers, labels = [], [], [], []
    truth: dict[str, dict[str, Any]] = {}
    for i in range(N_CUSTOMERS):
        cid = customer_id(i)
        tenure, charge = rng.randint(1, 60), round(rng.uniform(20, 130), 1)
        internet = ("Fiber Optic", "DSL", "None")[i % 3]
        complains = rng.random() < 0.35
        tags.append([cid, tenure, charge, internet, "Yes" if i % 5 == 0 else "No"])
        score = 4.6 - (2.6 if complains else 0.0) - (1.0 if charge > 100 else 0.0)
        score -= 0.4 if tenure < 12 else 0.0
        score = min(5, max(1, round(score + rng.gauss(0, 0.35))))
        if complains:
            texts.append({"customer_id": cid, "time": "2026-10-01T20:00:00Z", "channel": "hotline",
                          "text": COMPLAINTS[i % 2]})
        elif rng.random() < 0.15:
            texts.append({"customer_id": cid, "time": "2026-10-02T09:00:00Z", "channel": "app",
                          "lang": "en", "text": "all good, thanks"})
        elif rng.random() < 0.15:  # a negated mention: mentions_negated edges in the graph
            texts.append({"customer_id": cid, "time": "2026-10-03T09:00:00Z", "channel": "app",
                          "lang": "en", "text": "it is no longer slow in the evening"})
        outcome = None
        if rng.random() < 0.35:
            outcome = "accepted" if rng.random() < 0.5 else "declined"
            offers.append([cid, "strategy.speed_trial", "2026-10-05T10:00:00Z", outcome, ""])
        if i < N_CUSTOMERS - UNLABELLED:
            labels.append([cid, score, BROADBAND, "2026-10-10T00:00:00Z"])
            overall = min(5, max(1, score + rng.choice((-1, 0, 0, 1))))
            labels.append([cid, overall, OVERALL, "2026-10-10T00:00:00Z"])
        truth[cid] = {"complains": complains, "charge": charge, "tenure": tenure,
                      "offer": outcome}
    write_csv(folder / "customers_tags.csv",
              ["customer_id", "tag.tenure_months", "tag.monthly_charge", "tag.internet_type",
               "tag.senior"], tags)
    write_jsonl(folder / "texts.jsonl", texts)
    write_csv(folder / "offers.csv",
              ["customer_id", "strategy", "time", "outcome", "satisfaction_after"], offers)
    write_csv(folder / "labels.csv", ["customer_id", "score", "domain", "time"], labels)
    return truth


def build(store: GraphStore, folder: Path) -> dict[str, dict[str, Any]]:
    """Load the tiny ontology into ``store`` and ingest the dataset; return the truth."""
    load_ontology(store, tiny_ontology())
    truth = write_dataset(folder / "data")
    run_ingest(store, folder / "data", options=JobOptions(report_dir=folder / "reports",
                                                          progress=False), text=linker())
    return truth


def train(store: GraphStore) -> Any:
    """Export ``store`` and train a tiny two-member model on it; return ``(model, data)``."""
    import torch

    from needgraph.reasoning.export import export_graph
    from needgraph.reasoning.model import ModelConfig
    from needgraph.reasoning.train import TrainConfig, fit

    data, schema = export_graph(store)
    torch.manual_seed(0)
    model = fit(data, schema, torch.arange(int(data["customer"].num_nodes)),
                ModelConfig(hidden=16, layers=2, dropout=0.1),
                TrainConfig(lr=0.02, max_epochs=80, patience=15, bags=2, threads=1))
    return model, data


# --------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Trained]:
    """The ingested store file, the saved model file, the truth (built once per module)."""
    from needgraph.reasoning.artifacts import save_model

    folder = tmp_path_factory.mktemp("live")
    store = SqliteStore(folder / "graph.db", schema=GRAPH_SCHEMA)
    store.setup_schema()
    truth = build(store, folder)
    model, data = train(store)
    save_model(model, folder / "model.pt", store=store, data=data)
    store.close()
    yield folder / "graph.db", folder / "model.pt", truth


def copy_store(db: Path, target: Path) -> Path:
    """Copy a closed SQLite store (with its WAL files, if any)."""
    for suffix in ("", "-wal", "-shm"):
        src = db.with_name(db.name + suffix)
        if src.exists():
            shutil.copy(src, target.with_name(target.name + suffix))
    return target


@pytest.fixture
def reasoner(trained: Trained, tmp_path: Path) -> Iterator[Reasoner]:
    """A Reasoner over a private copy of the store (tests may write events)."""
    db, model_path, _ = trained
    store = SqliteStore(copy_store(db, tmp_path / "graph.db"), schema=GRAPH_SCHEMA)
    opened = Reasoner.open(store, model_path)
    opened._ontology = tiny_ontology()  # the store's ontology (Reasoner reads files by default)
    yield opened
    store.close()


def snapshot(r: Reasoner, customers: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Every domain's prediction of each customer, as plain data (exact floats)."""
    return {c: [d.to_dict() for d in r.predict([c])[0].domains] for c in customers}


def p_dis(r: Reasoner, customer: str, domain: str = BROADBAND) -> float:
    """P(dissatisfied) of one customer for one domain."""
    return r.predict([customer], domain)[0].domains[0].p_dissatisfied


def fresh_p(r: Reasoner, customer: str) -> tuple[Any, Any]:
    """P(dissatisfied) per domain and the feature row after a fresh export and full pass."""
    from needgraph.reasoning.explain import StarScorer
    from needgraph.reasoning.export import export_graph

    data, _ = export_graph(r.store, r.model.schema)
    scorer = StarScorer(r.model, data)
    c = scorer.index[customer]
    return star_prediction(scorer, c)[1], data["customer"].x[c]


def row(r: Reasoner, customer: str) -> Any:
    """The customer's feature row in the reasoner's graph."""
    return r.data["customer"].x[r.context().scorer.index[customer]]


def pick(truth: dict[str, dict[str, Any]], n: int = 1, **want: Any) -> list[str]:
    """Customers whose truth matches ``want``: ``charge_below``, ``complains``, ``tenure_below``."""
    out = []
    for cid, t in truth.items():
        if "complains" in want and t["complains"] != want["complains"]:
            continue
        if "charge_below" in want and not t["charge"] < want["charge_below"]:
            continue
        if "tenure_below" in want and not t["tenure"] < want["tenure_below"]:
            continue
        out.append(cid)
    return out[:n]


# --------------------------------------------------------------------------- tests
def test_refresh_of_an_unchanged_customer_is_bit_identical(
    reasoner: Reasoner, trained: Trained
) -> None:
    truth = trained[2]
    customers = pick(truth, 2, complains=True) + pick(truth, 2, complains=False)
    before = snapshot(reasoner, customers)
    x = reasoner.data["customer"].x.clone()
    said = reasoner.data["customer", "said", "utterance"].edge_index.clone()
    for cid in customers:
        reasoner.refresh_customer(cid)
    assert snapshot(reasoner, customers) == before
    assert torch.equal(reasoner.data["customer"].x, x)
    assert torch.equal(reasoner.data["customer", "said", "utterance"].edge_index, said)


def test_a_complaint_raises_that_customers_dissatisfaction_and_no_one_elses(
    reasoner: Reasoner, trained: Trained
) -> None:
    truth = trained[2]
    [cid] = pick(truth, complains=False, charge_below=80)
    others = [c for c in list(truth)[:30] if c != cid]
    before, before_others = p_dis(reasoner, cid), snapshot(reasoner, others)
    assert before < 0.3
    assert ("cause", "rev_mentions_negated", "utterance") in reasoner.model.schema.edge_types
    result = apply_event(reasoner, Event(
        cid, EventKind.COMPLAINT_TEXT, text="slow in the evening every day, call me 13812345678",
        lang="en"), linker=linker())
    after = p_dis(reasoner, cid)
    assert result.event.created and result.event.linked_concepts == ["cause.evening_congestion"]
    assert after > before + 0.2, (before, after)
    assert snapshot(reasoner, others) == before_others
    assert {d.domain for d in result.prediction.domains} == {BROADBAND, OVERALL}
    # no domain in the event: actions for the domain the customer is now most at risk in
    worst = max(result.prediction.domains, key=lambda d: d.p_dissatisfied).domain
    assert set(result.actions) == {worst}
    assert set(result.ms) == {"record", "refresh", "predict", "recommend", "total"}
    json.dumps(result.to_dict())
    # the new utterance is evidence on the explanation path, its text masked
    why = reasoner.explain(cid, BROADBAND)
    assert why.causes and why.causes[0][0] == "cause.evening_congestion"
    [evidence] = [e for p in why.paths for e in p.evidence if e["kind"] == "utterance"]
    assert evidence["key"] == result.event.utterance
    utterance = reasoner.data["utterance"].text[-1]
    assert "<PHONE>" in utterance and "13812345678" not in utterance
    # the star update matches a fresh export and full-graph pass of the stored graph
    p_fresh, x_fresh = fresh_p(reasoner, cid)
    assert torch.equal(row(reasoner, cid), x_fresh)
    assert abs(float(p_fresh[0]) - after) < 0.03


def test_a_tag_change_moves_the_customers_features_like_a_fresh_export(
    reasoner: Reasoner, trained: Trained
) -> None:
    [cid] = pick(trained[2], tenure_below=12)
    old = row(reasoner, cid).clone()
    result = apply_event(reasoner, Event(cid, EventKind.TAG_CHANGE, tag="tag.tenure_months",
                                         value=48))
    assert result.event.nodes == 1 and result.event.relationships == 1
    new = row(reasoner, cid)
    assert not torch.equal(new, old)
    _, x_fresh = fresh_p(reasoner, cid)
    assert torch.equal(new, x_fresh)
    scorer = reasoner.context().scorer
    bins = {it.key for it in scorer.evidence(scorer.index[cid]) if it.kind == "tag"}
    assert "tag.tenure_months=gte_12m" in bins and "tag.tenure_months=lt_12m" not in bins
    assert len(bins) == 4


def test_a_new_customer_is_appended_and_predicted(reasoner: Reasoner) -> None:
    n = int(reasoner.data["customer"].num_nodes)
    apply_event(reasoner, Event("NEW-1", EventKind.TAG_CHANGE, tag="tag.monthly_charge",
                                value=120))
    result = apply_event(reasoner, Event("NEW-1", EventKind.COMPLAINT_TEXT,
                                         text="宽带一到晚上就卡，烦死了"), linker=linker())
    assert result.event.new_customer is False and result.event.linked_concepts
    assert int(reasoner.data["customer"].num_nodes) == n + 1
    [pred] = result.prediction.domains[:1]
    assert pred.label is None and pred.p_dissatisfied > 0.5
    p_fresh, x_fresh = fresh_p(reasoner, "NEW-1")
    assert torch.equal(row(reasoner, "NEW-1"), x_fresh)
    assert abs(float(p_fresh[0]) - pred.p_dissatisfied) < 0.03


def test_refreshing_a_customer_the_store_lacks_names_it(reasoner: Reasoner) -> None:
    with pytest.raises(CustomerNotFoundError, match="'GONE-1' is not in the store"):
        reasoner.refresh_customer("GONE-1")


def edge_keys(data: Any, rel: str, dst: str) -> set[tuple[str, str, float]]:
    """``(customer key, destination key, weight)`` of every ``customer -rel-> dst`` edge."""
    ei, w = data["customer", rel, dst].edge_index, data["customer", rel, dst].edge_weight
    ck, dk = data["customer"].node_key, data[dst].node_key
    return {(ck[a], dk[b], round(x, 6)) for a, b, x in zip(ei[0].tolist(), ei[1].tolist(),
                                                           w.tolist(), strict=True)}


def test_events_that_add_and_remove_edges_leave_the_graph_a_fresh_export_builds(
    reasoner: Reasoner, trained: Trained
) -> None:
    """Edge counts change (a first text, a deleted text, a new customer's tags) in place."""
    from needgraph.graph.records import NodeRef
    from needgraph.reasoning.export import export_graph
    from needgraph.reasoning.live import read_star

    truth = trained[2]
    quiet, loud = pick(truth, 1, complains=False)[0], pick(truth, 1, complains=True)[0]
    others = [c for c in list(truth)[:30] if c not in (quiet, loud)]
    before_others = snapshot(reasoner, others)
    apply_event(reasoner, Event(quiet, EventKind.COMPLAINT_TEXT, text="slow in the evening"),
                linker=linker())
    [said] = read_star(reasoner.store, loud).said  # a text deleted from the store
    assert reasoner.store.delete_node(NodeRef("Utterance", said))
    reasoner.refresh_customer(loud)
    for tag, value in (("tag.monthly_charge", 120), ("tag.tenure_months", 3)):
        apply_event(reasoner, Event("NEW-2", EventKind.TAG_CHANGE, tag=tag, value=value))
    fresh, _ = export_graph(reasoner.store, reasoner.model.schema)
    for rel, dst in (("has_tag", "tag_bin"), ("said", "utterance")):
        live = edge_keys(reasoner.data, rel, dst)
        assert live == edge_keys(fresh, rel, dst), rel
        back = reasoner.data[dst, f"rev_{rel}", "customer"].edge_index
        assert torch.equal(back, reasoner.data["customer", rel, dst].edge_index.flip(0))
    scorer = reasoner.context().scorer
    assert said not in {it.key for it in scorer.evidence(scorer.index[loud])}
    assert len([it for it in scorer.evidence(scorer.index["NEW-2"]) if it.kind == "tag"]) == 2
    for cid in (quiet, loud, "NEW-2"):
        p_fresh, x_fresh = fresh_p(reasoner, cid)
        assert torch.equal(row(reasoner, cid), x_fresh)
        assert abs(float(p_fresh[0]) - p_dis(reasoner, cid, BROADBAND)) < 0.03
    assert snapshot(reasoner, others) == before_others


def test_a_reasoners_context_outlives_the_cache_of_recent_contexts(
    reasoner: Reasoner, trained: Trained
) -> None:
    """Contexts built for other graphs never evict (and rebuild) a live reasoner's context."""
    import copy

    from needgraph.reasoning.explain import context

    [cid] = pick(trained[2], complains=False)
    ctx = reasoner.context()
    apply_event(reasoner, Event(cid, EventKind.COMPLAINT_TEXT, text="slow in the evening"),
                linker=linker())
    after = p_dis(reasoner, cid)
    graphs = [copy.copy(reasoner.data) for _ in range(12)]  # held: their ids stay unique
    others = [context(reasoner.store, reasoner.model, g) for g in graphs]
    assert len({id(o) for o in others}) == 12
    assert reasoner.context() is ctx and p_dis(reasoner, cid) == after


def test_a_survey_answer_is_a_label_never_an_input(
    reasoner: Reasoner, trained: Trained
) -> None:
    [cid] = pick(trained[2], complains=False)
    before = reasoner.predict([cid], BROADBAND)[0].domains[0]
    apply_event(reasoner, Event(cid, EventKind.SURVEY_ANSWER, domain=BROADBAND, score=1))
    after = reasoner.predict([cid], BROADBAND)[0].domains[0]
    assert after.label == 1.0 and before.label != 1.0
    assert (after.p_dissatisfied, after.probs) == (before.p_dissatisfied, before.probs)


def test_a_retried_event_changes_nothing(reasoner: Reasoner,
                                         trained: Trained) -> None:
    [cid] = pick(trained[2], complains=False)
    event = Event(cid, EventKind.COMPLAINT_TEXT, text="slow in the evening", event_id="ev-42")
    first = apply_event(reasoner, event, linker=linker())
    counts = reasoner.store.counts()
    state = snapshot(reasoner, [cid])
    again = apply_event(reasoner, event, linker=linker())
    assert first.event.created and not again.event.created
    assert again.event.utterance == first.event.utterance
    assert reasoner.store.counts() == counts and snapshot(reasoner, [cid]) == state


def test_an_outcome_changes_the_acceptance_recommend_sees(
    reasoner: Reasoner, trained: Trained
) -> None:
    truth = trained[2]
    complainers = pick(truth, 40, complains=True)
    a = complainers[0]
    fresh = [b for b in complainers[1:] if truth[b]["offer"] is None][:5]
    assert len(fresh) == 5

    def trial() -> Any:
        found = [x for x in reasoner.recommend(a, BROADBAND, k=5)
                 if x.strategy == "strategy.speed_trial"]
        assert found, "the speed trial resolves A's cause: it must be recommended"
        return found[0]

    before = trial()
    assert before.similar_offers > 0 and "cause.evening_congestion" in before.addresses
    for b in fresh:  # no offer of the strategy yet: each outcome is a new offer
        apply_outcome(reasoner, Outcome(b, "strategy.speed_trial", OutcomeStatus.ACCEPTED,
                                        satisfaction_after=5))
    after = trial()
    assert after.similar_offers == before.similar_offers + 5
    assert after.acceptance_rate > before.acceptance_rate


def test_cli_event_and_outcome(trained: Trained, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from needgraph.cli import app
    from needgraph.config import get_settings
    from needgraph.errors import EventValidationError
    from needgraph.graph.records import NodeRef

    db = copy_store(trained[0], tmp_path / "cli.db")
    monkeypatch.setenv("NEEDGRAPH_STORE", f"sqlite:///{db}")
    monkeypatch.setenv("NEEDGRAPH_MODEL", str(trained[1]))
    [cid] = pick(trained[2], tenure_below=12)
    runner = CliRunner()
    get_settings.cache_clear()
    try:
        res = runner.invoke(app, ["event", cid, "--kind", "tag_change", "--tag",
                                  "tag.tenure_months", "--value", "30", "--json"])
        assert res.exit_code == 0, res.output
        body = json.loads(res.stdout)
        assert body["event"]["created"] is True and body["event"]["kind"] == "tag_change"
        assert body["prediction"]["customer"] == cid
        assert {d["domain"] for d in body["prediction"]["domains"]} == {BROADBAND, OVERALL}
        assert len(body["actions"]) == 1 and body["ms"]["total"] > 0
        res = runner.invoke(app, ["event", cid, "--kind", "survey_answer", "--domain", BROADBAND,
                                  "--score", "2", "--record-only"])
        assert res.exit_code == 0 and "recorded" in res.stdout, res.output
        res = runner.invoke(app, ["outcome", cid, "strategy.care_call", "--status", "offered",
                                  "--json"])
        assert res.exit_code == 0, res.output
        offered = json.loads(res.stdout)
        assert offered["created"] is True and offered["updated_existing"] is False
        res = runner.invoke(app, ["outcome", cid, "strategy.care_call", "--status", "accepted",
                                  "--satisfaction", "4"])
        assert res.exit_code == 0 and "updated offer" in res.stdout, res.output
        res = runner.invoke(app, ["event", cid, "--kind", "tag_change", "--tag",
                                  "tag.tenure_month", "--value", "3", "--record-only"])
        assert res.exit_code != 0 and isinstance(res.exception, EventValidationError)
        assert "tag.tenure_month" in res.exception.detail
        assert "tag.tenure_months" in res.exception.hint
    finally:
        get_settings.cache_clear()
    with SqliteStore(db, schema=GRAPH_SCHEMA) as store:
        offer = store.get_node(NodeRef("Offer", offered["offer"]))
        assert offer is not None
        assert offer.props["outcome"] == "accepted" and offer.props["satisfaction_after"] == 4.0
        rated = store.neighbourhood(NodeRef("Customer", cid), rel_types=["RATED"],
                                    direction="out")
        scores = {r.end.key: r.props["score"] for r in rated.relationships}
        assert scores[BROADBAND] == 2.0


@pytest.mark.neo4j
def test_events_refresh_the_reasoner_on_neo4j(neo4j_session_store: GraphStore,
                                              tmp_path: Path) -> None:
    from needgraph.reasoning.artifacts import build_info

    store = neo4j_session_store
    store.clear()
    try:
        truth = build(store, tmp_path)
        model, data = train(store)
        r = Reasoner(store, model, data, build_info(model, store, data))
        r._ontology = tiny_ontology()
        [cid] = pick(truth, complains=False, charge_below=80)
        others = [c for c in list(truth)[:10] if c != cid]
        before, before_others = p_dis(r, cid), snapshot(r, others)
        r.refresh_customer(cid)
        assert p_dis(r, cid) == before
        apply_event(r, Event(cid, EventKind.COMPLAINT_TEXT, text="slow in the evening again"),
                    linker=linker())
        apply_event(r, Event(cid, EventKind.TAG_CHANGE, tag="tag.monthly_charge", value=125.0))
        assert p_dis(r, cid) > before + 0.2
        assert snapshot(r, others) == before_others
        _, x_fresh = fresh_p(r, cid)
        assert torch.equal(row(r, cid), x_fresh)
    finally:
        store.clear()
