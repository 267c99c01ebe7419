"""Pure-torch heterogeneous neighbour sampler (PyG's own loader needs pyg-lib/torch-sparse).

For seed customers it samples, hop by hop and for every relation ending at a node type of the
current frontier, up to ``fanout[hop]`` incoming neighbours per frontier node (all of them when a
node has that few; otherwise ``fanout[hop]`` uniform draws, duplicates merged), and returns the
induced ``HeteroData`` with local indices (``int64``), float32 node features and the sampled
edges' weights. Seeds come first among customers (``batch_size`` of them), so the loss reads
``out[:batch_size]``.

Memory: the sampler reads incoming edges through a CSC index per edge type. When the edges are
already sorted by destination (as :func:`compact_graph` leaves them) the index is ``rowptr``
(``n_dst + 1`` ``int64``) plus a *view* of ``edge_index[0]``: no copy of any edge. Otherwise it
keeps a sorted copy of the sources and the permutation, ``int32`` each (8 bytes per edge). Plus
one ``int64`` lookup table per node type; each batch costs ``O(sampled edges)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor

from needgraph.reasoning.features import EdgeType

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

_NODE_ATTRS = ("x", "node_id", "y", "y_mask")
#: Per-edge attributes a sampled subgraph carries (when the graph has them).
_EDGE_ATTRS = ("edge_weight", "edge_attr")
_INT32_MAX = 2**31 - 1
_FLOAT16_MAX = 65504.0
#: Entries checked per step by :func:`is_sorted` and :func:`_is_constant` (16 MiB of ``bool``).
_CHUNK = 1 << 24
#: Edges moved per step when sorting by destination (~10 ``int64`` temporaries of 16 MiB).
_SORT_CHUNK = 1 << 21


class NeighborSampler:
    """Samples ``len(fanout)``-hop subgraphs around seed nodes of ``seed_type``.

    Args:
        data: The full graph (``int32`` or ``int64`` edge indices, any float feature dtype).
        fanout: Neighbours per node and relation, per hop (e.g. ``(32, 8)``).
        seed_type: Node type of the seeds.
    """

    def __init__(
        self, data: HeteroData, fanout: Sequence[int], seed_type: str = "customer"
    ) -> None:
        self.data = data
        self.fanout = list(fanout)
        self.seed_type = seed_type
        #: Per edge type ``(rowptr [n_dst + 1], sources in CSC order [e], CSC -> edge id or None)``.
        self.csc: dict[EdgeType, tuple[Tensor, Tensor, Tensor | None]] = {}
        for et in data.edge_types:
            ei = data[et].edge_index
            n_dst = int(data[et[2]].num_nodes)
            ptr = torch.zeros(n_dst + 1, dtype=torch.long)
            ptr[1:] = torch.cumsum(torch.bincount(ei[1], minlength=n_dst), 0)
            if is_sorted(ei[1]):
                self.csc[et] = (ptr, ei[0], None)
                continue
            n_src, n_edges = int(data[et[0]].num_nodes), int(ei.shape[1])
            col = torch.empty(n_edges, dtype=torch.int32 if n_src <= _INT32_MAX else torch.long)
            perm = torch.empty(n_edges, dtype=torch.int32 if n_edges <= _INT32_MAX else torch.long)
            for pos, idx in _csc_moves(ei[1], ptr):
                col[pos] = ei[0][idx].to(col.dtype)
                perm[pos] = idx.to(perm.dtype)
            self.csc[et] = (ptr, col, perm)
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
                picked.setdefault(et, []).append(eids if perm is None else perm[eids].long())
                src = col[eids].long()
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
                    sub[t][attr] = _widen(store[attr][ids])
        sub[self.seed_type].batch_size = int(seeds.numel())
        for et in self.data.edge_types:
            store = self.data[et]
            if et not in picked:
                sub[et].edge_index = torch.zeros((2, 0), dtype=torch.long)
                continue
            eids = torch.unique(torch.cat(picked[et]))
            ei = store.edge_index[:, eids].long()
            sub[et].edge_index = torch.stack(
                [self._local[et[0]][ei[0]], self._local[et[2]][ei[1]]]
            )
            for attr in _EDGE_ATTRS:
                value = store.get(attr)
                if isinstance(value, Tensor) and value.shape[:1] == store.edge_index.shape[1:]:
                    sub[et][attr] = _widen(value[eids])
        for t, ids in glob.items():
            self._local[t][ids] = -1
        return sub

    def _add(
        self, t: str, ids: Tensor, nodes: dict[str, list[Tensor]], count: dict[str, int]
    ) -> None:
        self._local[t][ids] = torch.arange(count[t], count[t] + ids.numel())
        nodes[t].append(ids)
        count[t] += int(ids.numel())


def compact_graph(data: HeteroData, features: torch.dtype = torch.float16) -> None:
    """Shrink ``data`` in place for neighbour sampling; the graph it describes is unchanged.

    Per edge type, the edges are reordered by destination (a stable counting sort in chunks: no
    full-length temporary beyond the new ``edge_index``), so that
    :class:`NeighborSampler` reads them without a copy; ``edge_index`` becomes ``int32`` (half
    of ``int64``) when every node count fits; a per-edge tensor whose entries are all equal (e.g.
    unit ``edge_weight``) becomes a zero-stride view of one entry. Float node features (``x``)
    are stored as ``features`` (default ``float16``: half the bytes, about 3 significant digits)
    when their values fit that type. The model casts back per batch (:meth:`NeighborSampler.sample`
    and :meth:`SatisfactionGNN.prepare` return ``int64`` indices and ``float32`` features).

    At 1M customers (a tiled 10k store, 353M edges) this takes the graph tensors from ~10.4 GiB
    (``int64`` indices, ``float32`` features, unit weights) to 4.6 GiB; the largest temporary is
    the new ``edge_index`` of one edge type (or the new features, made last). Use it for
    mini-batch training and prediction; code that edits the graph in place (live updates) needs
    the exported dtypes.

    Args:
        data: An exported graph; modified in place. Calling it again changes nothing.
        features: Storage dtype of float node features (``torch.float32`` keeps them).
    """
    # cheapest first, so that each step's new copy is made while the graph is smallest: constant
    # per-edge tensors (no temporary), edge indices (one edge type at a time), features
    for et in data.edge_types:
        store = data[et]
        for key, value in _per_edge(store).items():
            if value.shape[0] and value.stride(0) != 0 and _is_constant(value):
                store[key] = value[:1].clone().expand(value.shape)
    fits = max((int(data[t].num_nodes) for t in data.node_types), default=0) <= _INT32_MAX
    for et in data.edge_types:
        _sort_edges(data, et, torch.int32 if fits else torch.long)
    for t in data.node_types:
        x = data[t].get("x")
        if isinstance(x, Tensor) and x.is_floating_point() and x.dtype != features:
            limit = _FLOAT16_MAX if features == torch.float16 else float("inf")
            if _abs_max(x) < limit:
                data[t].x = x.to(features)


def _per_edge(store: Any) -> dict[str, Tensor]:
    """The per-edge tensors of an edge store other than ``edge_index`` (``[e, ...]`` each)."""
    n_edges = int(store.edge_index.shape[1])
    return {
        key: value
        for key, value in store.items()
        if key != "edge_index" and isinstance(value, Tensor) and value.shape[:1] == (n_edges,)
    }


def _sort_edges(data: HeteroData, et: EdgeType, small: torch.dtype) -> None:
    """Reorder the edges of ``et`` by destination (stable) and store indices as ``small``."""
    store = data[et]
    ei = store.edge_index
    if is_sorted(ei[1]):
        if ei.dtype != small:
            store.edge_index = ei.to(small)
        return
    n_dst = int(data[et[2]].num_nodes)
    ptr = torch.zeros(n_dst + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.bincount(ei[1], minlength=n_dst), 0)
    new = torch.empty((2, int(ei.shape[1])), dtype=small)
    per_edge = {k: v for k, v in _per_edge(store).items() if v.stride(0) != 0}  # not constant
    moved = {k: torch.empty_like(v) for k, v in per_edge.items()}
    for pos, idx in _csc_moves(ei[1], ptr):
        new[0, pos] = ei[0][idx].to(small)
        new[1, pos] = ei[1][idx].to(small)
        for key, out in moved.items():
            out[pos] = per_edge[key][idx]
    store.edge_index = new
    for key, out in moved.items():
        store[key] = out


def is_sorted(values: Tensor) -> bool:
    """Whether the 1-d ``values`` are non-decreasing (checked in chunks, O(1) extra memory)."""
    for start in range(0, max(values.numel() - 1, 0), _CHUNK):
        part = values[start : start + _CHUNK + 1]
        if not bool((part[1:] >= part[:-1]).all()):
            return False
    return True


def _abs_max(x: Tensor) -> float:
    """Largest absolute entry of ``x`` (0 when empty), read in row chunks (no full copy)."""
    rows = max(1, _CHUNK // max(1, x[0].numel() if x.dim() and x.shape[0] else 1))
    found = 0.0
    for start in range(0, x.shape[0] if x.dim() else 0, rows):
        lo, hi = torch.aminmax(x[start : start + rows])
        found = max(found, abs(float(lo)), abs(float(hi)))
    return found


def _is_constant(value: Tensor) -> bool:
    """Whether every row of ``value`` (``[e, ...]``) equals the first one."""
    if value.shape[0] == 0 or value.stride(0) == 0:
        return value.shape[0] > 0
    first = value[:1]
    for start in range(0, value.shape[0], _CHUNK):
        if not bool((value[start : start + _CHUNK] == first).all()):
            return False
    return True


def _csc_moves(dst: Tensor, ptr: Tensor) -> Iterator[tuple[Tensor, Tensor]]:
    """A stable counting sort of edges by destination, in chunks of edges.

    Yields ``(positions, edge ids)`` (``int64``, ``[<= _SORT_CHUNK]`` each): edge ``ids[i]`` goes to
    ``positions[i]`` of the destination-sorted order, ties kept in edge order (as a stable
    ``argsort`` would). Extra memory is ``O(chunk + n_dst)``: no full-length permutation.

    Args:
        dst: Destination of every edge, ``[e]``.
        ptr: ``rowptr`` of the sorted order (``ptr[j]`` = edges with destination ``< j``),
            ``[n_dst + 1]``.
    """
    n_dst = int(ptr.numel()) - 1
    fill = ptr[:-1].clone()  # next free position per destination
    for start in range(0, dst.numel(), _SORT_CHUNK):
        part = dst[start : start + _SORT_CHUNK].long()
        order = torch.argsort(part, stable=True)
        ordered = part[order]
        counts = torch.bincount(ordered, minlength=n_dst)
        rank = torch.arange(part.numel()) - (torch.cumsum(counts, 0) - counts)[ordered]
        yield fill[ordered] + rank, order + start
        fill += counts


def _widen(value: Tensor) -> Tensor:
    """``float32`` for half-precision floats and ``int64`` for narrower ints (per batch)."""
    if value.dtype in (torch.float16, torch.bfloat16):
        return value.float()
    if value.dtype in (torch.int32, torch.int16):
        return value.long()
    return value


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
