"""The Q1 protocol: cross-validation when everyone is labelled, train-and-score otherwise."""

from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")
pytest.importorskip("lightgbm")

from needgraph.reasoning.baseline import BaselineConfig, customer_texts, tabular_features  # noqa: E402
from needgraph.reasoning.export import export_graph  # noqa: E402
from needgraph.reasoning.model import ModelConfig  # noqa: E402
from needgraph.reasoning.q1 import run_q1  # noqa: E402
from needgraph.reasoning.train import TrainConfig  # noqa: E402
from tests.reasoning.conftest import build_store  # noqa: E402

SMALL = ModelConfig(hidden=16, dropout=0.1)
FAST = TrainConfig(lr=0.02, max_epochs=40, patience=10, threads=1)
LGB = BaselineConfig(n_estimators=30, threads=1)


def test_cross_validation_when_everyone_is_labelled(tmp_path):
    store = build_store(tmp_path / "g.db", n=150, unlabelled=0)
    result = run_q1(store, model_config=SMALL, train_config=FAST, baseline_config=LGB, folds=3)
    store.close()
    assert result.mode == "cv" and result.domain == "domain.overall"
    assert set(result.metrics) == {"gnn", "lightgbm"}
    for model in ("gnn", "lightgbm"):
        assert set(result.metrics[model]) == {"mae", "auc", "macro_f1"}
        assert len(result.fold_metrics[model]) == 3
        assert len(result.predictions[model]["score"]) == 150
    assert result.metrics["gnn"]["mae"] < 0.9
    assert result.customer_keys == sorted(result.customer_keys)


def test_holdout_trains_on_labelled_and_scores_the_rest(synthetic_store):
    data, schema = export_graph(synthetic_store)
    unlabelled = [k for k, m in zip(data["customer"].node_key, data["customer"].y_mask[:, 0],
                                     strict=True) if not m]
    truth = {k: 3.0 for k in unlabelled[:10]}
    result = run_q1(data, schema=schema, truth=truth, model_config=SMALL, train_config=FAST,
                    baseline_config=LGB)
    assert result.mode == "holdout"
    assert result.customer_keys == unlabelled
    assert len(result.predictions["gnn"]["score"]) == 40
    assert set(result.metrics["gnn"]) == {"mae", "auc", "macro_f1"}  # scored on the 10 truths
    no_truth = run_q1(data, schema=schema, model_config=SMALL, train_config=FAST, baseline=False)
    assert no_truth.metrics == {"gnn": {}}


def test_unknown_domain_is_refused(synthetic_store):
    with pytest.raises(ValueError, match="has no labels"):
        run_q1(synthetic_store, domain="domain.tariff", baseline=False)


def test_baseline_inputs(synthetic_store):
    data, schema = export_graph(synthetic_store)
    matrix, names = tabular_features(data, schema)
    assert matrix.shape == (240, len(names))
    assert "has_tag:tag.plan=basic" in names and "tag.usage:z" in names
    assert matrix[:, names.index("has_tag:tag.plan=basic")].sum() == 80
    texts = customer_texts(data)
    assert sum(bool(t) for t in texts) == data["utterance"].num_nodes


def test_importing_needgraph_reasoning_does_not_load_torch():
    code = (
        "import sys, needgraph, needgraph.reasoning, needgraph.reasoning.features, "
        "needgraph.reasoning.metrics; "
        "assert 'torch' not in sys.modules and 'lightgbm' not in sys.modules, 'heavy import'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
