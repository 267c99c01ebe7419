"""The GNN learns the synthetic graph, ignores unlabelled customers and is deterministic."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.reasoning.export import export_graph  # noqa: E402
from needgraph.reasoning.metrics import mae  # noqa: E402
from needgraph.reasoning.model import ARCHS, ModelConfig  # noqa: E402
from needgraph.reasoning.sampler import NeighborSampler  # noqa: E402
from needgraph.reasoning.train import TrainConfig, fit  # noqa: E402

SMALL = ModelConfig(hidden=16, layers=2, dropout=0.1)
FAST = TrainConfig(lr=0.02, max_epochs=60, patience=15, threads=1)


@pytest.fixture
def graph(synthetic_store):
    return export_graph(synthetic_store)


def _split(data):
    labelled = data["customer"].y_mask[:, 0].nonzero().flatten()
    return labelled[:150], labelled[150:]


def test_learns_and_beats_a_constant_predictor(graph):
    data, schema = graph
    train, test = _split(data)
    model = fit(data, schema, train, SMALL, FAST)
    pred = model.predict(data, test)
    y = data["customer"].y[test, 0]
    median = float(data["customer"].y[train, 0].median())
    assert pred.score.shape == (test.numel(), 1)
    assert ((pred.probs.sum(-1) - 1).abs() < 1e-5).all()
    assert ((pred.p_dissatisfied >= 0) & (pred.p_dissatisfied <= 1)).all()
    assert mae(y, pred.score[:, 0]) < 0.8 * mae(y, torch.full_like(y, median))


def test_unlabelled_and_held_out_labels_never_reach_the_loss(graph):
    data, schema = graph
    train, test = _split(data)
    cfg = TrainConfig(lr=0.02, max_epochs=8, patience=8, threads=1)
    base = fit(data, schema, torch.arange(data["customer"].num_nodes), SMALL, cfg)
    before = base.predict(data).score
    poisoned = data.clone()
    y = poisoned["customer"].y
    y[~poisoned["customer"].y_mask] = 1.0  # unlabelled customers: garbage where there is no label
    after = fit(poisoned, schema, torch.arange(data["customer"].num_nodes), SMALL, cfg)
    assert torch.equal(before, after.predict(poisoned).score)
    # every customer, labelled or not, is scored
    assert before.shape == (data["customer"].num_nodes, 1)
    # labels of customers outside the training index are not used either
    m1 = fit(data, schema, train, SMALL, cfg).predict(data).probs
    flipped = data.clone()
    flipped["customer"].y[test] = 6.0 - flipped["customer"].y[test]
    m2 = fit(flipped, schema, train, SMALL, cfg).predict(flipped).probs
    assert torch.equal(m1, m2)


def test_domain_without_labels_is_not_predicted(graph):
    data, schema = graph
    assert "domain.tariff" in data["domain"].node_key  # in the graph, carries messages
    assert schema.domains == ("domain.overall",)  # but gets no head
    model = fit(data, schema, _split(data)[0], SMALL, TrainConfig(max_epochs=2, threads=1))
    assert model.predict(data).score.shape[1] == 1


def test_no_labels_at_all_is_refused(synthetic_store):
    for batch in synthetic_store.iter_relationships("RATED"):
        for rel in batch:
            synthetic_store.delete_node(rel.start)
    data, schema = export_graph(synthetic_store)
    with pytest.raises(ValueError, match="no RATED labels"):
        fit(data, schema, torch.arange(data["customer"].num_nodes))


def test_fixed_seed_is_deterministic(graph):
    data, schema = graph
    train, _ = _split(data)
    cfg = TrainConfig(lr=0.02, max_epochs=10, patience=10, bags=2, seed=3, threads=1)
    a = fit(data, schema, train, SMALL, cfg).predict(data)
    b = fit(data, schema, train, SMALL, cfg).predict(data)
    assert torch.equal(a.probs, b.probs) and torch.equal(a.score, b.score)
    c = fit(data, schema, train, SMALL, TrainConfig(**{**cfg.to_dict(), "seed": 4})).predict(data)
    assert not torch.equal(a.probs, c.probs)


@pytest.mark.parametrize("arch", ARCHS)
def test_every_architecture_trains(graph, arch):
    data, schema = graph
    cfg = ModelConfig(arch=arch, hidden=16, heads=2, bases=2)
    model = fit(data, schema, _split(data)[0], cfg, TrainConfig(max_epochs=3, threads=1))
    pred = model.predict(data)
    assert pred.probs.shape == (data["customer"].num_nodes, 1, 5)
    assert torch.isfinite(pred.score).all()


def test_sampler_subgraph_is_consistent(graph):
    data, _ = graph
    sampler = NeighborSampler(data, fanout=(1, 3))
    seeds = torch.tensor([5, 0, 17])
    sub = sampler.sample(seeds, torch.Generator().manual_seed(0))
    assert sub["customer"].batch_size == 3
    assert sub["customer"].n_id[:3].tolist() == [5, 0, 17]
    full = {
        et: set(map(tuple, data[et].edge_index.t().tolist())) for et in data.edge_types
    }
    for et in sub.edge_types:
        ei = sub[et].edge_index
        if ei.numel() == 0:
            continue
        src = sub[et[0]].n_id[ei[0]]
        dst = sub[et[2]].n_id[ei[1]]
        assert set(zip(src.tolist(), dst.tolist(), strict=True)) <= full[et]
    # first hop: each seed has 2 tag bins, but the fanout keeps 1 of them
    ei = sub["tag_bin", "rev_has_tag", "customer"].edge_index
    seed_in = ei[1][ei[1] < 3]
    assert torch.bincount(seed_in, minlength=3).tolist() == [1, 1, 1]


def test_mini_batch_training_learns(graph):
    data, schema = graph
    train, test = _split(data)
    cfg = TrainConfig(
        lr=0.02, max_epochs=25, patience=8, full_batch_max_customers=0, batch_size=64,
        fanout=(8, 8), threads=1,
    )
    pred = fit(data, schema, train, SMALL, cfg).predict(data, test)
    y = data["customer"].y[test, 0]
    median = float(data["customer"].y[train, 0].median())
    assert mae(y, pred.score[:, 0]) < 0.9 * mae(y, torch.full_like(y, median))
