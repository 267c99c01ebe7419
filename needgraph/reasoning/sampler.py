"""Pure-torch heterogeneous neighbour sampler (PyG's own loader needs pyg-lib/torch-sparse).

For seed customers it samples, hop by hop and for every relation ending at a node type of the
current frontier, up to ``fanout[hop]`` incoming neighbours per frontier node (all of them when a
node has that few; otherwise ``fanout[hop]`` uniform draws, duplicates merged), and returns the
induced ``HeteroData`` with local indices. Seeds come first among customers (``batch_size`` of
them), so the loss reads ``out[:batch_size]``. Memory is ``O(edges)`` for the CSC index plus one
``int64`` lookup table per node type; each batch costs ``O(sampled edges)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from needgraph.reasoning.features import EdgeType

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

_NODE_ATTRS = ("x", "node_id", "y", "y_mask")


class NeighborSampler:
    """Samples ``len(fanout)``-hop subgraphs around seed nodes of ``seed_type``.

    Args:
        data: The full graph.
        fanout: Neighbours per node and relation, per hop (e.g. ``(32, 8)``).
        seed_type: Node type of the seeds.
    """

    def __init__(
        self, data: HeteroData, fanout: Sequence[int], seed_type: str = "customer"
    ) -> None:
        self.data = data
        self.fanout = list(fanout)
        self.seed_type = seed_type
        self.csc: dict[EdgeType, tuple[Tensor, Tensor, Tensor]] = {}
        for et in data.edge_types:
            ei = data[et].edge_index
            n_dst = int(data[et[2]].num_nodes)
            order = torch.argsort(ei[1], stable=True)
            counts = torch.bincount(ei[1], minlength=n_dst)
            ptr = torch.zeros(n_dst + 1, dtype=torch.long)
            ptr[1:] = torch.cumsum(counts, 0)
            self.csc[et] = (ptr, ei[0][order], order)
        self._local = {
            t: torch.full((int(data[t].num_nodes),), -1, dtype=torch.long) for t in data.node_types
        }

    def sample(self, seeds: Tensor, generator: torch.Generator | None = None) -> HeteroData:
        """The subgraph around ``seeds`` (distinct ``seed_type`` node indices, ``[b]``)."""
        from torch_geometric.data import HeteroData

        nodes: dict[str, list[Tensor]] = {t: [] for t in self._local}
        count = dict.fromkeys(self._local, 0)
        self._add(self.seed_type, seeds, nodes, count)
        frontier: dict[str, Tensor] = {self.seed_type: seeds}
        picked: dict[EdgeType, list[Tensor]] = {}
        for k in self.fanout:
            new_frontier: dict[str, list[Tensor]] = {}
            for et, (ptr, col, perm) in self.csc.items():
                dst = frontier.get(et[2])
                if dst is None or dst.numel() == 0:
                    continue
                eids = _sample_incoming(ptr, dst, k, generator)
                if eids.numel() == 0:
                    continue
                picked.setdefault(et, []).append(perm[eids])
                src = col[eids]
                fresh = torch.unique(src[self._local[et[0]][src] < 0])
                if fresh.numel():
                    self._add(et[0], fresh, nodes, count)
                    new_frontier.setdefault(et[0], []).append(fresh)
            frontier = {t: torch.cat(v) for t, v in new_frontier.items()}
        sub = HeteroData()
        empty = torch.zeros(0, dtype=torch.long)
        glob = {t: torch.cat(v) if v else empty for t, v in nodes.items()}
        for t, ids in glob.items():
            store = self.data[t]
            sub[t].num_nodes = int(ids.numel())
            sub[t].n_id = ids
            for attr in _NODE_ATTRS:
                if attr in store:
                    sub[t][attr] = store[attr][ids]
        sub[self.seed_type].batch_size = int(seeds.numel())
        for et in self.data.edge_types:
            full = self.data[et].edge_index
            if et in picked:
                eids = torch.unique(torch.cat(picked[et]))
                ei = full[:, eids]
                sub[et].edge_index = torch.stack(
                    [self._local[et[0]][ei[0]], self._local[et[2]][ei[1]]]
                )
            else:
                sub[et].edge_index = torch.zeros((2, 0), dtype=torch.long)
        for t, ids in glob.items():
            self._local[t][ids] = -1
        return sub

    def _add(
        self, t: str, ids: Tensor, nodes: dict[str, list[Tensor]], count: dict[str, int]
    ) -> None:
        self._local[t][ids] = torch.arange(count[t], count[t] + ids.numel())
        nodes[t].append(ids)
        count[t] += int(ids.numel())


def _sample_incoming(
    ptr: Tensor, dst: Tensor, k: int, generator: torch.Generator | None
) -> Tensor:
    """Positions (into the CSC order) of up to ``k`` incoming edges per node of ``dst``."""
    start, deg = ptr[dst], ptr[dst + 1] - ptr[dst]
    take = deg.clamp(max=k)
    total = int(take.sum())
    if total == 0:
        return torch.zeros(0, dtype=torch.long)
    owner = torch.repeat_interleave(torch.arange(dst.numel()), take)
    first = torch.cumsum(take, 0) - take
    rank = torch.arange(total) - first[owner]
    # nodes with more than k neighbours: k uniform draws (duplicates are merged later, O(k) per
    # node whatever the degree - tag bins of a million customers stay cheap)
    offset = torch.where(
        deg[owner] <= k,
        rank,
        torch.minimum(
            (torch.rand(total, generator=generator) * deg[owner]).long(), deg[owner] - 1
        ),
    )
    return start[owner] + offset
