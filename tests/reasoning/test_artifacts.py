"""A saved model predicts exactly as before, carries its provenance, and refuses what it does
not fit: graphs exported with another schema, stores on another ontology version, foreign files."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.errors import ModelMismatchError, ModelNotFoundError  # noqa: E402
from needgraph.ontology.versioning import VERSION_KEY, VersionRecord  # noqa: E402
from needgraph.reasoning.artifacts import (  # noqa: E402
    build_info,
    latest_model,
    load_model,
    read_info,
    save_model,
    save_versioned,
)
from needgraph.reasoning.export import export_graph  # noqa: E402
from needgraph.reasoning.model import ModelConfig  # noqa: E402
from needgraph.reasoning.train import TrainConfig, fit  # noqa: E402
from tests.reasoning.conftest import build_store  # noqa: E402

FAST = TrainConfig(max_epochs=5, bags=2, threads=1)


def set_ontology_version(store, version: str) -> None:
    """Record ``version`` as the store's current ontology version (as `ontology load` does)."""
    record = VersionRecord(version=version, content_hash="sha256:x", who="test", when="now",
                           why="test")
    store.set_meta(VERSION_KEY, record.model_dump_json())


@pytest.fixture
def trained(synthetic_store):
    data, schema = export_graph(synthetic_store)
    everyone = torch.arange(data["customer"].num_nodes)
    model = fit(data, schema, everyone, ModelConfig(hidden=16), FAST)
    return data, schema, model


def test_round_trip_and_schema_guard(synthetic_store, tmp_path, trained):
    data, schema, model = trained
    path = save_model(model, tmp_path / "models" / "q1.pt")
    again = load_model(path)
    assert again.schema.fingerprint() == schema.fingerprint()
    assert again.train_config == model.train_config
    assert torch.equal(again.predict(data).probs, model.predict(data).probs)
    # inference on a fresh export with the stored schema works ...
    fresh, _ = export_graph(synthetic_store, schema=again.schema)
    assert torch.equal(again.predict(fresh).score, model.predict(data).score)
    # ... one exported with its own, different schema is refused, naming both fingerprints
    other_store = build_store(tmp_path / "other.db", seed=5, with_text=False)
    other, other_schema = export_graph(other_store)
    other_store.close()
    with pytest.raises(ModelMismatchError, match="feature schema") as err:
        again.predict(other)
    assert other_schema.fingerprint() in err.value.detail
    assert schema.fingerprint() in err.value.detail
    assert "needgraph train" in err.value.hint


def test_metadata_is_saved_and_read_back(synthetic_store, tmp_path, trained):
    data, schema, model = trained
    set_ontology_version(synthetic_store, "1.2.0")
    info = build_info(model, synthetic_store, data)
    path = save_versioned(model, tmp_path / "models", info)
    assert info.model_id in path.name
    assert latest_model(tmp_path / "models") == path
    meta = read_info(path)
    assert meta.model_id == info.model_id
    assert meta.ontology_version == "1.2.0"
    assert meta.schema_fingerprint == schema.fingerprint()
    assert meta.data_fingerprint and meta.data_fingerprint.startswith("sha256:")
    assert meta.domains == ["domain.overall"]
    assert meta.customers_trained == 200  # 240 customers, the last 40 unlabelled
    assert meta.created_at.endswith("Z")
    assert meta.train_config["bags"] == 2 and meta.model_config["hidden"] == 16
    overall = meta.metrics["domain.overall"]
    assert overall["n"] == 200 and 0 <= overall["mae"] <= 4 and 0 <= overall["auc"] <= 1
    loaded = load_model(path, synthetic_store)
    assert loaded.info is not None and loaded.info.to_dict() == meta.to_dict()
    assert loaded.metrics == model.metrics


def test_data_fingerprint_follows_the_data(synthetic_store, tmp_path, trained):
    data, schema, model = trained
    first = build_info(model, synthetic_store, data).data_fingerprint
    assert build_info(model, synthetic_store, data).data_fingerprint == first  # deterministic
    twin = build_store(tmp_path / "twin.db")  # same generator, same seed: same graph
    twin_data, _ = export_graph(twin, schema)
    assert build_info(model, twin, twin_data).data_fingerprint == first
    twin.close()
    relabelled = data.clone()
    relabelled["customer"].y_mask[0, 0] = False  # one label fewer
    assert build_info(model, synthetic_store, relabelled).data_fingerprint != first


def test_other_ontology_version_is_refused(synthetic_store, tmp_path, trained):
    data, _, model = trained
    set_ontology_version(synthetic_store, "1.2.0")
    path = save_model(model, tmp_path / "m.pt", store=synthetic_store, data=data)
    load_model(path, synthetic_store)  # same version: fine
    set_ontology_version(synthetic_store, "1.3.0")
    with pytest.raises(ModelMismatchError) as err:
        load_model(path, synthetic_store)
    assert "1.2.0" in err.value.detail and "1.3.0" in err.value.detail
    assert "needgraph train" in err.value.hint
    load_model(path)  # without a store nothing is checked


def test_missing_and_foreign_files_are_refused(tmp_path):
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_model(tmp_path / "nope.pt")
    with pytest.raises(ModelNotFoundError, match="no trained model"):
        latest_model(tmp_path / "empty")
    bogus = tmp_path / "bogus.pt"
    bogus.write_text("not a model")
    with pytest.raises(ModelMismatchError, match="not a needgraph model artifact"):
        load_model(bogus)
    old = tmp_path / "old.pt"
    torch.save({"version": 1}, old)
    with pytest.raises(ModelMismatchError, match="format version 1"):
        load_model(old)
