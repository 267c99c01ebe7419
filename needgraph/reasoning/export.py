"""Store -> PyG ``HeteroData``, streamed through the public store API (works on every backend).

Node types: ``customer``, ``tag_bin``, ``tag``, ``utterance``, ``cause``, ``need``, ``strategy``,
``domain``. ``Offer`` nodes are folded into ``customer -received-> strategy`` edges whose
``edge_attr`` is the outcome one-hot (offered, accepted, declined, other). ``MENTIONS`` becomes
``mentions`` or, when negated or resolved, ``mentions_negated``. Every relation gets a reverse
``rev_<name>`` edge type. ``RATED`` is never a message-passing edge: it becomes the labels
``data['customer'].y`` ``[n_customers, n_domains]`` and ``y_mask`` (same shape, bool).

Features: ``customer.x`` per :meth:`FeatureSchema.customer_feature_names` (numeric tag values
standardised, missing indicators, piecewise-linear segments, log-degrees); ``utterance.x`` the
stored embedding plus a has-embedding flag; every vocabulary type carries ``node_id`` (embedding
index, 0 = unknown). Nodes of each type are ordered by key, so the result does not depend on the
backend or the order of ingest. ``node_key`` lists keep the store keys, ``utterance.text`` the
texts.

Exports are cached on disk between processes (:mod:`needgraph.reasoning.export_cache`, directory
``NEEDGRAPH_CACHE_DIR``): opening an unchanged store again loads the tensors instead of reading
the store.
"""

from __future__ import annotations

import dataclasses
import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any

from needgraph.graph.base import GraphStore
from needgraph.reasoning.encode import customer_matrix, numeric_stats
from needgraph.reasoning.export_read import OUTCOMES, Edges, read_nodes, read_relationships
from needgraph.reasoning.features import VOCAB_TYPES, EdgeType, FeatureSchema

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from torch_geometric.data import HeteroData

    from needgraph.reasoning.export_cache import ExportCache

__all__ = ["OUTCOMES", "ExportOptions", "export_graph", "restrict_domains"]


@dataclass(frozen=True)
class ExportOptions:
    """How to export.

    Args:
        batch_size: Nodes / relationships per store round trip.
        ple_segments: Quantile segments per numeric tag for the piecewise-linear encoding.
        include_text: Export utterances (and their mentions); ``False`` drops all text.
    """

    batch_size: int = 100_000
    ple_segments: int = 8
    include_text: bool = True


def export_graph(
    store: GraphStore,
    schema: FeatureSchema | None = None,
    options: ExportOptions | None = None,
    cache: ExportCache | bool = True,
) -> tuple[HeteroData, FeatureSchema]:
    """Export the store's customers, concepts and observations to a ``HeteroData``.

    Args:
        store: Any :class:`~needgraph.graph.base.GraphStore`.
        schema: The schema of a trained model: features are rebuilt exactly as recorded (unknown
            concept nodes get index 0, relations outside the schema are dropped). ``None`` derives
            a new schema from this graph.
        options: Export options.
        cache: ``True``: the cache of ``NEEDGRAPH_CACHE_DIR`` (none when it is ``off``); an
            :class:`~needgraph.reasoning.export_cache.ExportCache`; ``False``: read the store.
            An entry is used only for the same store, write token, schema and options.

    Returns:
        ``(data, schema)``; from the cache, equal to what reading the store gives.
    """
    from needgraph.reasoning.export_cache import ExportCache

    opts = options or ExportOptions()
    store_cache = ExportCache.from_settings() if cache is True else cache or None
    key = None
    if store_cache is not None:
        recipe = {"ple_segments": opts.ple_segments, "include_text": opts.include_text}
        key = store_cache.key_for(store, schema, recipe)
        hit = store_cache.load(key) if key is not None else None
        if hit is not None:
            return hit
    with _gc_paused():
        data, schema = _export(store, schema, opts)
    # written meanwhile: the entry would already be stale
    if store_cache is not None and key is not None and store.write_token() == key.token:
        store_cache.save(key, data, schema)
    return data, schema


def _export(
    store: GraphStore, schema: FeatureSchema | None, opts: ExportOptions
) -> tuple[HeteroData, FeatureSchema]:
    """Read the store and build the tensors (the uncached export)."""
    import numpy as np
    import torch
    from torch_geometric.data import HeteroData

    keys, utt_emb, utt_text, offers, value_types = read_nodes(
        store, opts.batch_size, opts.include_text
    )
    index = {t: {k: i for i, k in enumerate(ks)} for t, ks in keys.items()}
    edges, has_tag, labels = read_relationships(
        store, opts.batch_size, opts.include_text, index, offers
    )
    n_cust = len(keys["customer"])

    bin_tag = _bin_tags(keys["tag_bin"], edges.get(("tag_bin", "bin_of", "tag")), keys["tag"])
    c_idx, b_idx, raw = has_tag
    if schema is None:
        schema = _new_schema(keys, edges, value_types, bin_tag, has_tag, labels, utt_emb, opts)
    col_of = {n.tag: i for i, n in enumerate(schema.numeric)}
    values = np.full((n_cust, len(schema.numeric)), np.nan)
    cols = np.array([col_of.get(bin_tag[b], -1) for b in range(len(bin_tag))], dtype=np.int64)
    if c_idx.size:
        col = cols[b_idx] if cols.size else np.zeros(0, dtype=np.int64)
        ok = (col >= 0) & ~np.isnan(raw)
        values[c_idx[ok], col[ok]] = raw[ok]
    degrees = np.zeros((n_cust, len(schema.degree_relations)))
    for j, rel in enumerate(schema.degree_relations):
        e = edges.get(("customer", rel, _dst_of(schema, rel)))
        if e is not None and len(e.src):
            degrees[:, j] = np.bincount(np.frombuffer(e.src, dtype=np.int64), minlength=n_cust)

    data = HeteroData()
    data["customer"].x = torch.from_numpy(customer_matrix(schema, values, degrees))
    for t in schema.node_types:
        data[t].node_key = keys[t]
        data[t].num_nodes = len(keys[t])
        if t in VOCAB_TYPES:
            ids = [schema.index_of(t, k) for k in keys[t]]
            data[t].node_id = torch.tensor(ids, dtype=torch.long)
    if "utterance" in schema.node_types:
        data["utterance"].x = _utterance_matrix(keys["utterance"], utt_emb, schema.embedding_dim)
        data["utterance"].text = [utt_text.get(k, "") for k in keys["utterance"]]
    for et in schema.edge_types:
        _put_edges(data, et, edges, schema)
    y, mask = _label_matrix(labels, index["customer"], schema.domains)
    data["customer"].y = y
    data["customer"].y_mask = mask
    data.schema_fingerprint = schema.fingerprint()
    return data, schema


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: the export allocates millions of short-lived rows.

    Rows and batches form no reference cycles, but each allocation burst triggers collections
    that walk every live object of the process (torch's included): measured at a quarter of the
    export's CPU time at 10k customers.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _bin_tags(bins: list[str], bin_of: Edges | None, tags: list[str]) -> list[str]:
    """Tag id of every tag bin: from ``BIN_OF`` edges, else the key's ``<tag id>=`` prefix."""
    out = [b.split("=", 1)[0] for b in bins]
    if bin_of is not None:
        for b, t in zip(bin_of.src, bin_of.dst, strict=True):
            out[b] = tags[t]
    return out


def _dst_of(schema: FeatureSchema, rel: str) -> str:
    return next(dst for src, name, dst in schema.edge_types if src == "customer" and name == rel)


def _new_schema(
    keys: dict[str, list[str]],
    edges: dict[EdgeType, Edges],
    value_types: dict[str, str],
    bin_tag: list[str],
    has_tag: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    labels: list[tuple[int, str, float]],
    utt_emb: dict[str, list[float]],
    opts: ExportOptions,
) -> FeatureSchema:
    import numpy as np

    _, b_idx, raw = has_tag
    tags = sorted(set(bin_tag))
    code = {t: i for i, t in enumerate(tags)}
    edge_code = np.array([code[t] for t in bin_tag], dtype=np.int64)[b_idx]
    order = np.argsort(edge_code, kind="stable")
    bounds = np.searchsorted(edge_code[order], np.arange(len(tags) + 1))
    numeric = []
    for i, tag in enumerate(tags):
        vals = raw[order[bounds[i] : bounds[i + 1]]]
        declared = value_types.get(tag)
        if declared is None:
            is_numeric = vals.size > 0 and not np.isnan(vals).any()
        else:
            is_numeric = declared == "numeric"
        if is_numeric:
            numeric.append(numeric_stats(tag, vals[~np.isnan(vals)], opts.ple_segments))
    forward = sorted(et for et, e in edges.items() if len(e.src))
    edge_types: list[EdgeType] = []
    for src, rel, dst in forward:
        edge_types += [(src, rel, dst), (dst, f"rev_{rel}", src)]
    dims = {len(v) for v in utt_emb.values()}
    if len(dims) > 1:
        raise ValueError(f"utterance embeddings have different widths: {sorted(dims)}")
    return FeatureSchema(
        vocab={t: tuple(keys[t]) for t in VOCAB_TYPES if keys[t]},
        numeric=tuple(numeric),
        degree_relations=tuple(rel for src, rel, _ in forward if src == "customer"),
        edge_types=tuple(edge_types),
        embedding_dim=dims.pop() if dims else 0,
        domains=tuple(sorted({d for _, d, _ in labels})),
    )


def _utterance_matrix(keys: list[str], emb: dict[str, list[float]], dim: int) -> Any:
    import torch

    x = torch.zeros((len(keys), dim + 1))
    for i, k in enumerate(keys):
        vec = emb.get(k)
        if vec is not None:
            if len(vec) != dim:
                raise ValueError(
                    f"utterance {k!r} has a {len(vec)}-d embedding; the model expects {dim}"
                )
            x[i, :dim] = torch.tensor(vec)
            x[i, dim] = 1.0
    return x


def _put_edges(
    data: HeteroData, et: EdgeType, edges: dict[EdgeType, Edges], schema: FeatureSchema
) -> None:
    import numpy as np
    import torch

    src_t, rel, dst_t = et
    reverse = rel.startswith("rev_")
    fwd = (dst_t, rel[4:], src_t) if reverse else et
    e = edges.get(fwd)
    if e is None or not len(e.src):
        ei = torch.zeros((2, 0), dtype=torch.long)
        w = torch.zeros(0)
        attr = torch.zeros((0, len(OUTCOMES) + 1)) if fwd[1] == "received" else None
    else:
        s = torch.from_numpy(np.frombuffer(e.src, dtype=np.int64).copy())
        d = torch.from_numpy(np.frombuffer(e.dst, dtype=np.int64).copy())
        ei = torch.stack([d, s]) if reverse else torch.stack([s, d])
        w = torch.from_numpy(np.frombuffer(e.weight, dtype=np.float32).copy())
        attr = torch.tensor(e.attr, dtype=torch.float32) if e.attr else None
    data[et].edge_index = ei
    data[et].edge_weight = w
    if attr is not None:
        data[et].edge_attr = attr


def _label_matrix(
    labels: list[tuple[int, str, float]], customers: dict[str, int], domains: tuple[str, ...]
) -> tuple[Any, Any]:
    """Scores ``y`` ``[n_customers, n_domains]`` (float32) and ``y_mask`` (bool, same shape)."""
    import numpy as np
    import torch

    col = {d: j for j, d in enumerate(domains)}
    y = np.zeros((len(customers), len(domains)), dtype=np.float32)
    mask = np.zeros((len(customers), len(domains)), dtype=bool)
    if labels:
        cs, ds, scores = zip(*labels, strict=True)
        c = np.asarray(cs, dtype=np.int64)
        j = np.fromiter(map(col.get, ds, repeat(-1)), dtype=np.int64, count=len(ds))
        ok = j >= 0
        y[c[ok], j[ok]] = np.asarray(scores, dtype=np.float32)[ok]
        mask[c[ok], j[ok]] = True
    return torch.from_numpy(y), torch.from_numpy(mask)


def restrict_domains(
    data: HeteroData, schema: FeatureSchema, domains: Sequence[str]
) -> tuple[HeteroData, FeatureSchema]:
    """Keep only the label columns of ``domains`` (in their sorted order), in place.

    Args:
        data: Exported graph; its ``y`` / ``y_mask`` ``[n, d]`` become ``[n, len(domains)]``.
        schema: Its schema.
        domains: Labelled domains to keep.

    Returns:
        ``(data, schema)`` with the narrowed schema (and ``data.schema_fingerprint`` updated).

    Raises:
        UnknownDomainError: A domain without labels.
    """
    from needgraph.errors import UnknownDomainError

    missing = [d for d in domains if d not in schema.domains]
    if missing:
        raise UnknownDomainError(
            f"domain {missing[0]!r} has no satisfaction labels in the store; labelled domains: "
            f"{', '.join(schema.domains)}",
            domain=missing[0],
            domains=list(schema.domains),
        )
    keep = sorted(set(domains))
    cols = [schema.domains.index(d) for d in keep]
    narrowed = dataclasses.replace(schema, domains=tuple(keep))
    data["customer"].y = data["customer"].y[:, cols]
    data["customer"].y_mask = data["customer"].y_mask[:, cols]
    data.schema_fingerprint = narrowed.fingerprint()
    return data, narrowed
