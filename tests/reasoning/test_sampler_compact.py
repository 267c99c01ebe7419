"""Compacting a graph for mini-batches keeps the graph, halves its memory and changes no sample."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.reasoning.export import export_graph  # noqa: E402
from needgraph.reasoning.sampler import NeighborSampler, compact_graph, is_sorted  # noqa: E402


@pytest.fixture
def data(synthetic_store):
    return export_graph(synthetic_store)[0]


def _edges(data, et):
    """``{(src, dst): weight}`` of one edge type (global indices)."""
    ei, w = data[et].edge_index, data[et].edge_weight
    return dict(zip(zip(ei[0].tolist(), ei[1].tolist(), strict=True), w.tolist(), strict=True))


def _global_pairs(sub, et, ei):
    """``{(src, dst)}`` of a sampled edge index, in the full graph's node indices."""
    src, dst = sub[et[0]].n_id[ei[0]].tolist(), sub[et[2]].n_id[ei[1]].tolist()
    return set(zip(src, dst, strict=True))


def _bytes(data) -> int:
    seen: dict[int, int] = {}
    for store in data.stores:
        for value in store.values():
            if isinstance(value, torch.Tensor):
                seen[value.untyped_storage().data_ptr()] = value.untyped_storage().nbytes()
    return sum(seen.values())


def test_compaction_keeps_every_edge_weight_and_feature_in_less_memory(data):
    before = {et: _edges(data, et) for et in data.edge_types}
    x = data["customer"].x.clone()
    size = _bytes(data)
    compact_graph(data)
    for et in data.edge_types:
        ei = data[et].edge_index
        assert ei.dtype == torch.int32 and is_sorted(ei[1]), et
        assert _edges(data, et) == before[et], et
    assert data["customer"].x.dtype == torch.float16
    assert torch.allclose(data["customer"].x.float(), x, rtol=1e-3, atol=1e-4)
    assert _bytes(data) < 0.6 * size
    # unit weights became one shared entry, but still read as one weight per edge
    w = data["customer", "has_tag", "tag_bin"].edge_weight
    assert w.stride(0) == 0 and w.shape[0] == data["customer", "has_tag", "tag_bin"].num_edges
    # a second call changes nothing
    again = {et: data[et].edge_index.clone() for et in data.edge_types}
    compact_graph(data)
    assert all(torch.equal(data[et].edge_index, again[et]) for et in data.edge_types)


def test_a_compacted_graph_is_sampled_without_copies_and_gives_the_same_samples(data):
    plain = data.clone()
    compact_graph(data)
    sampler, reference = NeighborSampler(data, (2, 3)), NeighborSampler(plain, (2, 3))
    for et, (_, col, perm) in sampler.csc.items():
        assert perm is None, et
        assert col.untyped_storage().data_ptr() == data[et].edge_index.untyped_storage().data_ptr()
    seeds = torch.tensor([7, 3, 120, 41])
    sub = sampler.sample(seeds, torch.Generator().manual_seed(5))
    ref = reference.sample(seeds, torch.Generator().manual_seed(5))
    for t in ref.node_types:
        assert torch.equal(sub[t].n_id, ref[t].n_id), t
        if "x" in ref[t]:
            assert sub[t].x.dtype == torch.float32
            assert torch.allclose(sub[t].x, ref[t].x, rtol=1e-3, atol=1e-4), t
    for et in ref.edge_types:
        got, want = sub[et].edge_index, ref[et].edge_index
        assert got.dtype == torch.long
        assert _global_pairs(sub, et, got) == _global_pairs(ref, et, want), et
    assert sub["tag_bin", "rev_has_tag", "customer"].edge_index.shape[1] > 0


def test_sampled_edges_carry_their_own_weights(data):
    et = ("tag_bin", "rev_has_tag", "customer")
    gen = torch.Generator().manual_seed(0)
    data[et].edge_weight = torch.rand(data[et].num_edges, generator=gen) + 0.5
    weights = _edges(data, et)
    compact_graph(data)
    sub = NeighborSampler(data, (4, 4)).sample(torch.arange(20), gen)
    ei, w = sub[et].edge_index, sub[et].edge_weight
    assert w.shape == (ei.shape[1],) and ei.shape[1] >= 20
    src, dst = sub[et[0]].n_id[ei[0]].tolist(), sub[et[2]].n_id[ei[1]].tolist()
    for a, b, weight in zip(src, dst, w.tolist(), strict=True):
        assert weight == pytest.approx(weights[(a, b)])


def test_edges_are_reordered_like_a_stable_sort_by_destination(data, monkeypatch):
    import needgraph.reasoning.sampler as sampler_module

    monkeypatch.setattr(sampler_module, "_CHUNK", 7)  # many chunks even on a small graph
    monkeypatch.setattr(sampler_module, "_SORT_CHUNK", 5)
    et = ("customer", "has_tag", "tag_bin")
    gen = torch.Generator().manual_seed(1)
    data[et].edge_weight = torch.rand(data[et].num_edges, generator=gen)
    ei, w = data[et].edge_index.clone(), data[et].edge_weight.clone()
    assert not is_sorted(ei[1])
    plain = data.clone()
    compact_graph(data)
    order = torch.argsort(ei[1], stable=True)
    assert torch.equal(data[et].edge_index.long(), ei[:, order])
    assert torch.equal(data[et].edge_weight, w[order])
    # the sampler's own index of an unsorted graph is the same order
    ptr, col, perm = NeighborSampler(plain, (1,)).csc[et]
    assert torch.equal(perm.long(), order) and torch.equal(col.long(), ei[0][order])
    assert ptr[-1] == ei.shape[1]
