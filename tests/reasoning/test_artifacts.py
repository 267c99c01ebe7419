"""A saved model predicts exactly as before and refuses graphs exported with another schema."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.reasoning.artifacts import load_model, save_model  # noqa: E402
from needgraph.reasoning.export import export_graph  # noqa: E402
from needgraph.reasoning.model import ModelConfig  # noqa: E402
from needgraph.reasoning.train import TrainConfig, fit  # noqa: E402
from tests.reasoning.conftest import build_store  # noqa: E402


def test_round_trip_and_schema_guard(synthetic_store, tmp_path):
    data, schema = export_graph(synthetic_store)
    cfg = TrainConfig(max_epochs=5, bags=2, threads=1)
    model = fit(data, schema, torch.arange(data["customer"].num_nodes), ModelConfig(hidden=16), cfg)
    path = save_model(model, tmp_path / "models" / "q1.pt")
    again = load_model(path)
    assert again.schema.fingerprint() == schema.fingerprint()
    assert again.train_config == model.train_config
    assert torch.equal(again.predict(data).probs, model.predict(data).probs)
    # inference on a fresh export with the stored schema works ...
    fresh, _ = export_graph(synthetic_store, schema=again.schema)
    assert torch.equal(again.predict(fresh).score, model.predict(data).score)
    # ... one exported with its own, different schema is refused
    other_store = build_store(tmp_path / "other.db", seed=5)
    other, _ = export_graph(other_store)
    other_store.close()
    with pytest.raises(ValueError, match="feature schema"):
        again.predict(other)
