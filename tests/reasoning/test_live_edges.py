"""In-place customer edge updates (:mod:`needgraph.reasoning.live_edges`) against a plain model.

Random replacements (more edges, fewer, none, a new customer) on a graph whose customer row is
not sorted must leave, after every step, exactly the reference edges in both directions, in the
order :meth:`CustomerEdges.of` reports, with the reverse tensor still the forward one flipped.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.reasoning.live_edges import CustomerEdges, customer_edges  # noqa: E402

FWD = ("customer", "received", "strategy")
REV = ("strategy", "rev_received", "customer")
Ref = dict[int, list[tuple[int, float, tuple[float, ...]]]]


def graph(customers: int, rng: random.Random) -> tuple[Any, Ref]:
    """A graph with ``customers`` customers, 0-6 edges each, in shuffled order (attrs ``[e,2]``)."""
    from torch_geometric.data import HeteroData

    ref: Ref = {c: [] for c in range(customers)}
    rows = []
    for c in range(customers):
        for _ in range(rng.randint(0, 6)):
            edge = (rng.randrange(9), float(rng.randint(1, 9)), (float(rng.random() < 0.5), 2.0))
            rows.append((c, edge))
    rng.shuffle(rows)
    for c, edge in rows:  # the reference keeps each customer's edges in graph order
        ref[c].append(edge)
    data = HeteroData()
    data["customer"].num_nodes = customers
    data["strategy"].num_nodes = 9
    ei = torch.tensor([[c for c, _ in rows], [e[0] for _, e in rows]], dtype=torch.long)
    w = torch.tensor([e[1] for _, e in rows])
    attr = torch.tensor([list(e[2]) for _, e in rows]).reshape(-1, 2)
    data[FWD].edge_index, data[FWD].edge_weight, data[FWD].edge_attr = ei, w, attr
    data[REV].edge_index, data[REV].edge_weight, data[REV].edge_attr = ei.flip(0), w.clone(), \
        attr.clone()
    return data, ref


def check(data: Any, place: CustomerEdges, ref: Ref) -> None:
    """The graph holds exactly ``ref``; ``place.of(c)`` lists each customer's edges in order."""
    fwd, rev = data[FWD], data[REV]
    total = sum(len(v) for v in ref.values())
    assert fwd.edge_index.shape == (2, total) and fwd.edge_weight.shape == (total,)
    assert fwd.edge_attr.shape == (total, 2) and place.size == total
    assert torch.equal(rev.edge_index, fwd.edge_index.flip(0))
    assert torch.equal(rev.edge_weight, fwd.edge_weight)
    assert torch.equal(rev.edge_attr, fwd.edge_attr)
    for c, edges in ref.items():
        at = place.of(c)
        assert bool((fwd.edge_index[0][at] == c).all())
        got = list(zip(fwd.edge_index[1][at].tolist(), fwd.edge_weight[at].tolist(),
                       [tuple(a) for a in fwd.edge_attr[at].tolist()], strict=True))
        assert got == edges, c


def test_random_replacements_keep_both_directions_exact() -> None:
    rng = random.Random(7)
    data, ref = graph(40, rng)
    place = CustomerEdges(data, FWD)
    assert place.order is not None  # shuffled: the index sorted a copy, not the graph
    check(data, place, ref)
    customers = 40
    for step in range(300):
        if step % 50 == 49:  # a customer appended to the graph after the index was built
            data["customer"].num_nodes = customers + 1
            ref[customers] = []
            customers += 1
        c = rng.randrange(customers)
        m = rng.choice((0, 1, 2, 5, 9, len(ref[c]), max(len(ref[c]) - 1, 0)))
        new = [(rng.randrange(9), float(rng.randint(1, 9)), (1.0, float(step))) for _ in range(m)]
        place.replace(data, c, torch.tensor([e[0] for e in new], dtype=torch.long),
                      torch.tensor([e[1] for e in new]),
                      torch.tensor([list(e[2]) for e in new]).reshape(-1, 2))
        ref[c] = new
        check(data, place, ref)


def test_tensors_replaced_behind_its_back_rebuild_the_index() -> None:
    data, ref = graph(10, random.Random(3))
    placements: dict[Any, CustomerEdges] = {}
    first = customer_edges(placements, data, FWD)
    assert customer_edges(placements, data, FWD) is first
    for et in (FWD, REV):  # e.g. a reload: the same edges in new tensors
        data[et].edge_index = data[et].edge_index.clone()
    again = customer_edges(placements, data, FWD)
    assert again is not first
    check(data, again, ref)
