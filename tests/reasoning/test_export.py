"""Store -> HeteroData export: shapes, labels, reverse edges and a stable feature schema."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.graph.records import Node, NodeRef, Relationship  # noqa: E402
from needgraph.reasoning.export import ExportOptions, export_graph  # noqa: E402
from needgraph.reasoning.features import FeatureSchema  # noqa: E402
from tests.reasoning.conftest import EMB_DIM, build_store  # noqa: E402


def test_export_shapes_labels_and_reverse_edges(synthetic_store):
    data, schema = export_graph(synthetic_store, options=ExportOptions(batch_size=37))
    n = 240
    assert data["customer"].num_nodes == n
    assert data["customer"].node_key == sorted(data["customer"].node_key)
    assert data["customer"].x.shape == (n, len(schema.customer_feature_names()))
    assert torch.isfinite(data["customer"].x).all()
    # numeric tag -> z, missing flag and piecewise-linear segments; categorical tag -> bins only
    assert [t.tag for t in schema.numeric] == ["tag.usage"]
    assert "tag.usage:z" in schema.customer_feature_names()
    assert data["tag_bin"].node_id.tolist() == list(range(1, 7))  # 0 is "unknown"
    assert data["utterance"].x.shape[1] == EMB_DIM + 1
    assert schema.embedding_dim == EMB_DIM
    for src, rel, dst in schema.edge_types:
        if not rel.startswith("rev_"):
            fwd, rev = data[src, rel, dst].edge_index, data[dst, f"rev_{rel}", src].edge_index
            assert torch.equal(fwd.flip(0), rev)
    assert data["customer", "has_tag", "tag_bin"].edge_index.shape == (2, 2 * n)
    assert ("customer", "received", "strategy") in data.edge_types
    assert data["customer", "received", "strategy"].edge_attr.shape[1] == 4
    # RATED is a label, never a message-passing edge
    assert not any("rated" in rel for _, rel, _ in data.edge_types)
    # only labelled domains become label columns: domain.tariff has no RATED edges
    assert schema.domains == ("domain.overall",)
    assert data["customer"].y.shape == (n, 1)
    assert int(data["customer"].y_mask.sum()) == n - 40
    assert not data["customer"].y_mask[-40:].any()


def test_schema_is_stable_and_round_trips(synthetic_store, tmp_path: Path):
    data1, schema1 = export_graph(synthetic_store, cache=False)
    data2, schema2 = export_graph(
        synthetic_store, options=ExportOptions(batch_size=5), cache=False
    )
    assert schema1.fingerprint() == schema2.fingerprint()
    assert torch.equal(data1["customer"].x, data2["customer"].x)
    again = FeatureSchema.from_json(schema1.to_json())
    assert again.fingerprint() == schema1.fingerprint()
    assert again.customer_feature_names() == schema1.customer_feature_names()
    # a differently drawn graph gives different statistics, hence a different fingerprint
    other = build_store(tmp_path / "other.db", seed=1)
    _, schema3 = export_graph(other)
    other.close()
    assert schema3.fingerprint() != schema1.fingerprint()


def test_inference_reuses_the_schema_and_maps_new_concepts_to_unknown(synthetic_store):
    _, schema = export_graph(synthetic_store)
    synthetic_store.upsert_nodes(
        [Node("TagBin", "tag.plan=new"), Node("Customer", "Z9999", {"source": "late"})]
    )
    synthetic_store.upsert_relationships(
        [
            Relationship("BIN_OF", NodeRef("TagBin", "tag.plan=new"), NodeRef("Tag", "tag.plan")),
            Relationship(
                "HAS_TAG",
                NodeRef("Customer", "Z9999"),
                NodeRef("TagBin", "tag.plan=new"),
                {"value": "new"},
            ),
        ]
    )
    data, same = export_graph(synthetic_store, schema=schema)
    assert same is schema
    assert data["customer"].x.shape[1] == len(schema.customer_feature_names())
    keys = data["tag_bin"].node_key
    assert data["tag_bin"].node_id[keys.index("tag.plan=new")] == 0
    late = data["customer"].node_key.index("Z9999")
    assert not data["customer"].y_mask[late].any()
    # the late customer has no usage value: z is 0 and the missing flag is set
    names = schema.customer_feature_names()
    assert data["customer"].x[late, names.index("tag.usage:missing")] == 1.0
    assert data["customer"].x[late, names.index("tag.usage:z")] == 0.0


def test_without_text_no_utterances(synthetic_store):
    data, schema = export_graph(synthetic_store, options=ExportOptions(include_text=False))
    assert "utterance" not in data.node_types
    assert schema.embedding_dim == 0
    assert "said" not in schema.degree_relations
