"""The Reasoner on both stores: opens versioned artifacts, scores labelled and unlabelled
customers exactly as the full-graph model does, and refuses unknown customers, domains, models."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.config import get_settings  # noqa: E402
from needgraph.errors import (  # noqa: E402
    CustomerNotFoundError,
    ModelMismatchError,
    ModelNotFoundError,
    UnknownDomainError,
)
from needgraph.reasoning.artifacts import save_versioned  # noqa: E402
from needgraph.reasoning.model import ModelConfig  # noqa: E402
from needgraph.reasoning.runtime import Reasoner, train_from_store  # noqa: E402
from needgraph.reasoning.train import TrainConfig  # noqa: E402
from tests.reasoning.conftest import fill_store  # noqa: E402
from tests.reasoning.test_artifacts import set_ontology_version  # noqa: E402

SMALL = ModelConfig(hidden=16)
FAST = TrainConfig(lr=0.02, max_epochs=40, patience=10, bags=2, threads=1)
LABELLED, UNLABELLED = "C0000", "C0239"  # build_store: the last 40 customers have no label



@pytest.fixture
def trained_dir(store, tmp_path):
    """The backend's store filled with the synthetic graph, and a model dir holding one model."""
    fill_store(store, tmp_path)
    set_ontology_version(store, "1.0.0")
    model, info = train_from_store(store, model_config=SMALL, train_config=FAST)
    save_versioned(model, tmp_path / "models", info)
    return store, tmp_path / "models", info


def test_predicts_labelled_and_unlabelled_customers_like_the_full_graph_model(trained_dir):
    store, models, info = trained_dir
    reasoner = Reasoner.open(store, models / f"model-{info.model_id}.pt")
    assert reasoner.domains == ["domain.overall"]  # domain.tariff has no labels: not predicted
    assert reasoner.info.model_id == info.model_id
    keys = list(reasoner.data["customer"].node_key)
    found = reasoner.predict(keys)
    full = reasoner.model.predict(reasoner.data)
    star = torch.tensor([[d.probs for d in p.domains] for p in found])
    assert torch.allclose(star, full.probs, atol=1e-5)
    assert torch.equal(torch.tensor([[d.score for d in p.domains] for p in found]), full.score)
    by_key = {p.customer: p for p in found}
    unlabelled = by_key[UNLABELLED].domains[0]
    assert unlabelled.label is None and 1 <= unlabelled.score <= 5
    assert 0 <= unlabelled.p_dissatisfied <= 1 and abs(sum(unlabelled.probs) - 1) < 1e-5
    assert by_key[LABELLED].domains[0].label is not None
    assert [d["domain"] for d in by_key[UNLABELLED].to_dict()["domains"]] == ["domain.overall"]


def test_unknown_customer_and_domain_are_refused_with_names(trained_dir):
    store, models, _ = trained_dir
    reasoner = Reasoner.open(store, sorted(models.glob("model-*.pt"))[0])
    with pytest.raises(CustomerNotFoundError, match="'C9999'"):
        reasoner.predict([LABELLED, "C9999"])
    with pytest.raises(UnknownDomainError) as err:
        reasoner.predict([LABELLED], "domain.tariff")
    assert "'domain.tariff'" in err.value.detail and "domain.overall" in err.value.detail
    assert err.value.problem()["status"] == 422
    with pytest.raises(UnknownDomainError):
        reasoner.explain(LABELLED, "domain.nope")
    with pytest.raises(CustomerNotFoundError):
        reasoner.explain("C9999", "domain.overall")
    explanation = reasoner.explain(UNLABELLED, "domain.overall")
    assert explanation.customer == UNLABELLED
    drivers = reasoner.drivers("domain.overall", k=3)
    assert len(drivers) <= 3


def test_open_finds_the_newest_model_and_refuses_mismatches(trained_dir, monkeypatch):
    store, models, info = trained_dir
    monkeypatch.setenv("NEEDGRAPH_MODEL_DIR", str(models))
    monkeypatch.delenv("NEEDGRAPH_MODEL", raising=False)
    get_settings.cache_clear()
    try:
        assert Reasoner.open(store).info.model_id == info.model_id  # via `latest`
        set_ontology_version(store, "2.0.0")
        with pytest.raises(ModelMismatchError, match=r"1\.0\.0.*2\.0\.0"):
            Reasoner.open(store)
        monkeypatch.setenv("NEEDGRAPH_MODEL_DIR", str(models.parent / "none"))
        get_settings.cache_clear()
        with pytest.raises(ModelNotFoundError, match="no trained model"):
            Reasoner.open(store)
    finally:
        get_settings.cache_clear()


def test_train_restricts_domains_and_refuses_unlabelled_ones(trained_dir):
    store, _, _ = trained_dir
    cfg = TrainConfig(max_epochs=2, bags=1, threads=1)
    model, info = train_from_store(store, ["domain.overall"], SMALL, cfg)
    assert info.domains == ["domain.overall"] and model.schema.domains == ("domain.overall",)
    with pytest.raises(UnknownDomainError, match=r"'domain\.tariff' has no satisfaction labels"):
        train_from_store(store, ["domain.tariff"], SMALL, cfg)
