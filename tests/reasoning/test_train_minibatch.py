"""Mini-batch training compacts the graph, still learns, and predicts like the exported graph."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.reasoning.export import export_graph  # noqa: E402
from needgraph.reasoning.model import ModelConfig  # noqa: E402
from needgraph.reasoning.train import TrainConfig, fit  # noqa: E402

SMALL = ModelConfig(hidden=16, layers=2, dropout=0.1)
MINI = TrainConfig(
    lr=0.02, max_epochs=25, patience=8, full_batch_max_customers=0, batch_size=64,
    fanout=(8, 8), threads=1, bags=2,
)


def test_mini_batch_training_on_the_compacted_graph_ranks_dissatisfied_customers(synthetic_store):
    data, schema = export_graph(synthetic_store)
    fresh, _ = export_graph(synthetic_store)
    everyone = torch.arange(int(data["customer"].num_nodes))
    model = fit(data, schema, everyone, SMALL, MINI)
    # training shrank the graph it was given ...
    assert data["customer", "has_tag", "tag_bin"].edge_index.dtype == torch.int32
    assert data["customer"].x.dtype == torch.float16
    # ... and the model separates dissatisfied from satisfied held-out customers
    metrics = model.metrics["domain.overall"]
    assert metrics["n"] >= 50
    assert metrics["auc"] > 0.9
    # predictions on the compacted graph are those on a fresh export, up to float16 rounding
    on_compact, on_fresh = model.predict(data), model.predict(fresh)
    assert on_fresh.score.shape == (everyone.numel(), 1)
    assert torch.allclose(on_compact.probs, on_fresh.probs, atol=2e-3)
    assert fresh["customer", "has_tag", "tag_bin"].edge_index.dtype == torch.long  # untouched


def test_compaction_can_be_switched_off(synthetic_store):
    data, schema = export_graph(synthetic_store)
    cfg = TrainConfig(**{**MINI.to_dict(), "max_epochs": 2, "compact": False})
    fit(data, schema, torch.arange(int(data["customer"].num_nodes)), SMALL, cfg)
    assert data["customer", "has_tag", "tag_bin"].edge_index.dtype == torch.long
    assert data["customer"].x.dtype == torch.float32
