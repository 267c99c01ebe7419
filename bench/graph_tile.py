"""Replicate an exported graph K times (customers and utterances copied, concepts shared).

Used by ``bench/train_scale.py`` for sizes whose ingest through the store would not finish on
this machine: degrees and feature distributions stay those of the base graph.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

#: Node types copied per customer when tiling; every other type is shared.
PER_CUSTOMER = ("customer", "utterance")


def tile(data: HeteroData, k: int, exported: bool = False) -> HeteroData:
    """``data`` with its customers and utterances (and their edges) replicated ``k`` times.

    ``data`` is compacted first (:func:`~needgraph.reasoning.sampler.compact_graph`) and the copy
    is built compact: edges sorted by destination, ``int32`` indices, ``float16`` features,
    constant per-edge tensors as zero-stride views; every output tensor is allocated once at
    its final size (no ``int64`` or ``float32`` intermediate of the tiled graph).

    With ``exported`` the copy has the export's layout instead (``int64`` indices, ``float32``
    features, materialised weights, copies concatenated per edge type, so ``HAS_TAG`` is not
    sorted by destination), as a freshly exported 1M graph would be: training then compacts it
    in place, and its cost is measured.

    Args:
        data: An exported graph (compacted in place unless ``exported``).
        k: Copies (>= 1).
        exported: Build the export's layout (see above).

    Returns:
        A graph with ``k`` times the customers; concept nodes are shared.
    """
    from torch_geometric.data import HeteroData

    from needgraph.reasoning.sampler import compact_graph

    if exported:
        return _tile_exported(data, k)
    compact_graph(data)
    out = HeteroData()
    _tile_nodes(data, out, k)
    for et in data.edge_types:
        _tile_edges(data, out, et, k)
    return out


def _tile_nodes(data: HeteroData, out: HeteroData, k: int) -> None:
    """Copy node attributes (``k`` times for :data:`PER_CUSTOMER` types) and the fingerprint."""
    import torch

    for t in data.node_types:
        reps = k if t in PER_CUSTOMER else 1
        store = data[t]
        for key, value in store.items():
            if key == "num_nodes":
                continue
            if isinstance(value, torch.Tensor):
                out[t][key] = value.repeat((reps,) + (1,) * (value.dim() - 1))
            elif key == "node_key" and reps > 1:
                out[t][key] = [f"{v}#{i}" for i in range(reps) for v in value]
            else:
                out[t][key] = list(value) * reps
        out[t].num_nodes = int(store.num_nodes) * reps
    fingerprint = getattr(data, "schema_fingerprint", None)
    if fingerprint is not None:
        out.schema_fingerprint = fingerprint


def _tile_exported(data: HeteroData, k: int) -> HeteroData:
    """``k`` copies in the export's dtypes and edge order (copies concatenated)."""
    import torch
    from torch_geometric.data import HeteroData

    out = HeteroData()
    _tile_nodes(data, out, k)
    for et in data.edge_types:
        src, _, dst = et
        store = data[et]
        ei = store.edge_index
        rep_src, rep_dst = src in PER_CUSTOMER, dst in PER_CUSTOMER
        reps = k if rep_src or rep_dst else 1
        n_src, n_dst = int(data[src].num_nodes), int(data[dst].num_nodes)
        built = torch.empty((2, ei.shape[1] * reps), dtype=torch.long)
        for i, part in enumerate(torch.split(built, ei.shape[1], dim=1)):
            part[0] = ei[0] + (n_src * i if rep_src else 0)
            part[1] = ei[1] + (n_dst * i if rep_dst else 0)
        out[et].edge_index = built
        for key, value in store.items():
            if key != "edge_index" and isinstance(value, torch.Tensor):
                out[et][key] = value.repeat((reps,) + (1,) * (value.dim() - 1))
    return out


def _tile_edges(data: HeteroData, out: HeteroData, et: tuple[str, str, str], k: int) -> None:
    """Edges of type ``et`` of ``k`` copies, kept sorted by destination (``data`` is sorted).

    Copy ``i`` of base edge ``p`` (CSC position, destination ``j``) goes to ``i * e + p`` when
    destinations are copied too, else to ``k * ptr[j] + i * deg[j] + (p - ptr[j])``: the ``k``
    copies of a shared node's incoming edges are contiguous.
    """
    import torch

    src, _, dst = et
    store = data[et]
    ei = store.edge_index
    e = int(ei.shape[1])
    rep_src, rep_dst = src in PER_CUSTOMER, dst in PER_CUSTOMER
    reps = k if rep_src or rep_dst else 1
    n_src, n_dst = int(data[src].num_nodes), int(data[dst].num_nodes)
    dst_ids = ei[1].long()
    ptr = torch.zeros(n_dst + 1, dtype=torch.long)
    ptr[1:] = torch.cumsum(torch.bincount(dst_ids, minlength=n_dst), 0)
    deg, first = (ptr[1:] - ptr[:-1])[dst_ids], ptr[:-1][dst_ids]
    rank = torch.arange(e) - first
    tensors = {key: v for key, v in store.items() if isinstance(v, torch.Tensor)}
    built: dict[str, torch.Tensor] = {}
    for key, value in tensors.items():
        if key == "edge_index":
            built[key] = torch.empty((2, e * reps), dtype=value.dtype)
        elif value.stride(0) == 0:  # constant: stays a view
            built[key] = value[:1].expand((e * reps, *value.shape[1:]))
        else:
            built[key] = torch.empty((e * reps, *value.shape[1:]), dtype=value.dtype)
    for i in range(reps):
        pos = i * e + torch.arange(e) if rep_dst or reps == 1 else k * first + i * deg + rank
        shift_src, shift_dst = n_src * i if rep_src else 0, n_dst * i if rep_dst else 0
        built["edge_index"][0, pos] = ei[0] + shift_src
        built["edge_index"][1, pos] = ei[1] + shift_dst
        for key, value in tensors.items():
            if key != "edge_index" and value.stride(0) != 0:
                built[key][pos] = value
    for key, value in built.items():
        out[et][key] = value
