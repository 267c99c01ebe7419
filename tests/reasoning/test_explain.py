"""Path explanations: faithful to the model, stable, bilingual, honest when there is no driver."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.errors import ReasoningArgumentError  # noqa: E402
from needgraph.graph.records import Node, NodeRef  # noqa: E402
from needgraph.reasoning.explain import MIN_CONFIDENCE, context, explain, remove_and_score  # noqa: E402
from needgraph.reasoning.export import export_graph  # noqa: E402
from needgraph.reasoning.model import ModelConfig  # noqa: E402
from needgraph.reasoning.train import TrainConfig, fit  # noqa: E402
from tests.reasoning.conftest import build_store  # noqa: E402

DOMAIN = "domain.overall"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    path = Path(tmp_path_factory.mktemp("explain")) / "g.db"
    store = build_store(path)
    store.upsert_nodes([Node("Customer", "C9999", {"source": "synthetic"})])  # no evidence at all
    torch.manual_seed(0)
    data, schema = export_graph(store)
    model = fit(
        data,
        schema,
        torch.arange(data["customer"].num_nodes),
        ModelConfig(hidden=16, layers=2, dropout=0.1),
        TrainConfig(lr=0.02, max_epochs=60, patience=15, threads=1),
    )
    model.db_path = path  # type: ignore[attr-defined]  # for the CLI test
    yield store, model, data
    store.close()


def _complainers(model: Any, data: Any) -> list[str]:
    """Customers who complained (a mention of bill shock), most likely dissatisfied first."""
    said = data["customer", "said", "utterance"].edge_index
    keys = data["customer"].node_key
    ment = set(data["utterance", "mentions", "cause"].edge_index[0].tolist())
    p = model.predict(data).p_dissatisfied[:, 0]
    found = {c for c, u in zip(said[0].tolist(), said[1].tolist(), strict=True) if u in ment}
    return [keys[c] for c in sorted(found, key=lambda c: -float(p[c]))]


def test_star_reproduces_the_models_prediction(trained: Any) -> None:
    store, model, data = trained
    ctx = context(store, model, data)
    pred = model.predict(data).p_dissatisfied
    for c in (0, 7, 42, 120):
        p, _ = ctx.scorer.score(c, [[]])
        assert float(p[0, 0]) == pytest.approx(float(pred[c, 0]), abs=1e-4)


def test_explanations_are_stable_and_point_to_the_planted_cause(trained: Any) -> None:
    store, model, data = trained
    customer = _complainers(model, data)[0]
    first = explain(store, model, data, customer, DOMAIN)
    second = explain(store, model, data, customer, DOMAIN)
    assert [(p.cause, p.weight) for p in first.paths] == [(p.cause, p.weight) for p in second.paths]
    assert first.attribution == second.attribution
    assert not first.no_strong_driver
    top = first.paths[0]
    assert top.cause == "cause.bill_shock"
    assert top.nodes[0] == customer and "cause.bill_shock" in top.nodes
    assert {"SAID", "MENTIONS"} <= set(top.relations) or {"HAS_TAG", "INDICATES"} <= set(
        top.relations
    )
    assert 0 < top.share <= 1
    texts = [e for e in top.evidence if e["kind"] == "utterance"]
    assert all(e["text"] for e in texts)


def test_removing_the_top_paths_evidence_lowers_the_prediction(trained: Any) -> None:
    store, model, data = trained
    ctx = context(store, model, data)
    customer = _complainers(model, data)[0]
    exp = explain(store, model, data, customer, DOMAIN)
    keys = {e["key"] for e in exp.paths[0].evidence}
    c = ctx.scorer.index[customer]
    without = remove_and_score(ctx, c, DOMAIN, keys)
    assert without < exp.p_dissatisfied
    assert exp.p_without_evidence < exp.p_dissatisfied

    # in log-odds the drop is clear even for a saturated prediction
    def logit(q: float) -> float:
        return float(torch.logit(torch.tensor(q), eps=1e-7))

    assert logit(exp.p_dissatisfied) - logit(without) > 0.5


def test_zh_and_en_name_the_same_concepts(trained: Any) -> None:
    store, model, data = trained
    customer = _complainers(model, data)[0]
    en = explain(store, model, data, customer, DOMAIN, lang="en")
    zh = explain(store, model, data, customer, DOMAIN, lang="zh")
    assert [p.concepts for p in en.paths] == [p.concepts for p in zh.paths]
    node = store.get_node(NodeRef("Cause", "cause.bill_shock"))
    assert node is not None
    assert (
        str(node.props["label_zh"]) in zh.paths[0].sentence and "指向原因" in zh.paths[0].sentence
    )
    assert (
        str(node.props["label_en"]) in en.paths[0].sentence and "points to" in en.paths[0].sentence
    )
    assert en.paths[0].sentence != zh.paths[0].sentence


def test_each_path_reports_its_causes_confidence(trained: Any) -> None:
    store, model, data = trained
    customer = _complainers(model, data)[0]
    exp = explain(store, model, data, customer, DOMAIN)
    assert exp.paths and set(exp.confidence) == {c for c, _ in exp.causes}
    for path in exp.paths:
        assert 0.0 <= path.confidence <= 1.0
        assert path.confidence == exp.confidence[path.cause] >= MIN_CONFIDENCE  # the default bar
    assert exp.to_dict()["paths"][0]["confidence"] == exp.paths[0].confidence
    # the complaint is more common among dissatisfied customers, but not certain proof: asking
    # for near-certainty gives the honest answer instead of a weak cause
    strict = explain(store, model, data, customer, DOMAIN, min_confidence=0.99)
    assert strict.no_strong_driver and strict.paths == [] and strict.confidence == {}
    assert strict.attribution == exp.attribution  # same model attribution, only the bar moved
    for bad in (-0.1, 1.01, float("nan")):
        with pytest.raises(ReasoningArgumentError, match=r"min_confidence must lie in \[0, 1\]"):
            explain(store, model, data, customer, DOMAIN, min_confidence=bad)


def test_no_strong_driver_without_evidence(trained: Any) -> None:
    store, model, data = trained
    for lang, phrase in (("en", "No strong driver found"), ("zh", "未发现明显原因")):
        exp = explain(store, model, data, "C9999", DOMAIN, lang=lang)
        assert exp.no_strong_driver and exp.paths == [] and exp.causes == []
        assert phrase in exp.sentence


def test_unknown_domain_and_customer_are_errors(trained: Any) -> None:
    store, model, data = trained
    with pytest.raises(ValueError, match="unknown domain"):
        explain(store, model, data, "C0000", "domain.nope")
    with pytest.raises(KeyError):
        explain(store, model, data, "nobody", DOMAIN)


def test_cli_commands_print_json(
    trained: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    import typer
    from typer.testing import CliRunner

    from needgraph.cli import reason
    from needgraph.config import Settings
    from needgraph.graph import factory
    from needgraph.reasoning.artifacts import save_model

    _, model, data = trained
    save_model(model, tmp_path / "model.pt")
    monkeypatch.setattr(
        factory, "get_settings", lambda: Settings(store=f"sqlite:///{model.db_path}")
    )
    monkeypatch.setattr(reason, "open_store", factory.open_store)
    app = typer.Typer()
    app.command("explain")(reason.explain_command)
    app.command("drivers")(reason.drivers_command)
    runner = CliRunner()
    customer = _complainers(model, data)[0]
    res = runner.invoke(
        app,
        ["explain", customer, "--domain", DOMAIN, "--model", str(tmp_path / "model.pt"), "--json"],
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["customer"] == customer and out["paths"][0]["cause"] == "cause.bill_shock"
    model_file = str(tmp_path / "model.pt")
    res = runner.invoke(app, ["explain", customer, "--domain", DOMAIN, "--model", model_file,
                              "--min-confidence", "0.99", "--json"])
    assert res.exit_code == 0, res.output
    strict = json.loads(res.output)
    assert strict["no_strong_driver"] and strict["paths"] == []
    res = runner.invoke(app, ["explain", customer, "--domain", DOMAIN, "--model", model_file,
                              "--min-confidence", "2"])
    assert res.exit_code == 2 and "--min-confidence" in res.output
    res = runner.invoke(app, ["drivers", "--domain", DOMAIN, "--model", str(tmp_path / "model.pt")])
    assert res.exit_code == 0 and "cause.bill_shock" in res.output


def test_utterance_evidence_quotes_what_the_linker_matched(trained: Any) -> None:
    """An utterance path reads the MENTIONS properties (span, confidence) stored for that cause."""
    store, model, data = trained
    ctx = context(store, model, data)
    ment = data["utterance", "mentions", "cause"].edge_index
    ukeys, ckeys = data["utterance"].node_key, data["cause"].node_key
    checked = 0
    for u, cz in zip(ment[0].tolist()[:20], ment[1].tolist()[:20], strict=True):
        utterance, cause = ukeys[u], ckeys[cz]
        spans = ctx.concepts.utterance_spans(utterance)
        stored = store.get_relationships(NodeRef("Utterance", utterance), "MENTIONS", "Cause",
                                         [cause])
        assert spans[cause] and spans[cause] == stored[cause].props
        checked += 1
    assert checked
