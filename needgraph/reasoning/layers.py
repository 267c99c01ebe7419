"""Building blocks of the GNN that PyG does not provide in a CPU-friendly form.

Mean aggregation as a sparse (CSR) matrix product is an order of magnitude faster on CPU than
gather/scatter over edges (measured: 20 ms vs 300 ms for 177k edges x 64 dims).
"""

from __future__ import annotations

import warnings

import torch
from torch import Tensor, nn

from needgraph.reasoning.features import EdgeType


def mean_adjacency(
    edge_index: Tensor, weight: Tensor | None, n_src: int, n_dst: int, normalise: bool = True
) -> Tensor:
    """Adjacency ``[n_dst, n_src]`` (sparse CSR): ``A @ h_src`` is the weighted mean (or sum).

    Args:
        edge_index: ``[2, e]`` source and destination indices.
        weight: Positive edge weights ``[e]`` (``None``: all 1).
        n_src: Source nodes.
        n_dst: Destination nodes.
        normalise: Divide each row by its total weight (weighted mean); ``False`` keeps sums.
    """
    w = torch.ones(edge_index.shape[1]) if weight is None else weight.clamp_min(1e-6)
    values = w
    if normalise:
        total = torch.zeros(n_dst).index_add_(0, edge_index[1], w)
        values = w / total[edge_index[1]].clamp_min(1e-12)
    with warnings.catch_warnings():  # "sparse CSR support is in beta"
        warnings.simplefilter("ignore", UserWarning)
        coo = torch.sparse_coo_tensor(
            edge_index.flip(0), values, (n_dst, n_src), check_invariants=False
        ).coalesce()
        return coo.to_sparse_csr()


class RGCNLayer(nn.Module):
    """One R-GCN round over all relations: ``sum_r mean_{j in N_r(i)} W_r h_j``.

    ``W_r = sum_b a_rb V_b`` (basis decomposition, Schlichtkrull et al. 2018) when ``bases > 0``.
    """

    def __init__(self, edge_types: list[EdgeType], hidden: int, bases: int) -> None:
        super().__init__()
        self.keys = ["__".join(et) for et in edge_types]
        n_rel = len(edge_types)
        self.bases = bases if 0 < bases < n_rel else 0
        if self.bases:
            self.basis = nn.Parameter(torch.empty(self.bases, hidden, hidden))
            self.coef = nn.Parameter(torch.empty(n_rel, self.bases))
            nn.init.xavier_uniform_(self.basis)
            nn.init.xavier_uniform_(self.coef)
        else:
            self.weight = nn.Parameter(torch.empty(n_rel, hidden, hidden))
            nn.init.xavier_uniform_(self.weight)

    def forward(self, h: dict[str, Tensor], adj: dict[EdgeType, Tensor]) -> dict[str, Tensor]:
        """Messages summed per destination type; ``h[t]`` is ``[n_t, hidden]``."""
        weights = (
            torch.einsum("rb,bio->rio", self.coef, self.basis) if self.bases else self.weight
        )
        out: dict[str, Tensor] = {}
        for r, key in enumerate(self.keys):
            src_t, rel, dst_t = key.split("__")
            a = adj.get((src_t, rel, dst_t))
            if a is None or a.shape[0] == 0 or a.shape[1] == 0:
                continue
            agg = torch.sparse.mm(a, h[src_t] @ weights[r])
            out[dst_t] = out[dst_t] + agg if dst_t in out else agg
        return out
