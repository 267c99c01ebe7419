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
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from needgraph.graph.base import GraphStore
from needgraph.graph.records import Relationship
from needgraph.reasoning.encode import customer_matrix, numeric_stats
from needgraph.reasoning.features import NODE_TYPES, VOCAB_TYPES, EdgeType, FeatureSchema

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from torch_geometric.data import HeteroData

#: Store relationship type -> HeteroData relation name (the edge ends follow the node labels).
_RELATIONS: dict[str, str] = {
    "HAS_TAG": "has_tag",
    "BIN_OF": "bin_of",
    "SUB_TAG_OF": "sub_tag_of",
    "DERIVED_FROM": "derived_from",
    "INDICATES": "indicates",
    "SAID": "said",
    "MENTIONS": "mentions",
    "AFFECTS": "affects",
    "BLOCKS": "blocks",
    "CONCERNS": "concerns",
    "RESOLVES": "resolves",
    "ADDRESSES": "addresses",
    "BROADER": "broader",
}
_WEIGHT_PROP = {"INDICATES": "weight", "MENTIONS": "confidence"}
OUTCOMES: tuple[str, ...] = ("offered", "accepted", "declined")


@dataclass(frozen=True)
class ExportOptions:
    """How to export.

    Args:
        batch_size: Nodes / relationships per store round trip.
        ple_segments: Quantile segments per numeric tag for the piecewise-linear encoding.
        include_text: Export utterances (and their mentions); ``False`` drops all text.
    """

    batch_size: int = 10_000
    ple_segments: int = 8
    include_text: bool = True


class _Edges:
    """Growing edge list of one edge type (int arrays, weights, attributes)."""

    def __init__(self) -> None:
        from array import array

        self.src = array("q")
        self.dst = array("q")
        self.weight = array("f")
        self.attr: list[list[float]] = []


def export_graph(
    store: GraphStore, schema: FeatureSchema | None = None, options: ExportOptions | None = None
) -> tuple[HeteroData, FeatureSchema]:
    """Export the store's customers, concepts and observations to a ``HeteroData``.

    Args:
        store: Any :class:`~needgraph.graph.base.GraphStore`.
        schema: The schema of a trained model: features are rebuilt exactly as recorded (unknown
            concept nodes get index 0, relations outside the schema are dropped). ``None`` derives
            a new schema from this graph.
        options: Export options.

    Returns:
        ``(data, schema)``.
    """
    import numpy as np
    import torch
    from torch_geometric.data import HeteroData

    opts = options or ExportOptions()
    keys, utt_emb, utt_text, offers, value_types = _read_nodes(store, opts)
    index = {t: {k: i for i, k in enumerate(ks)} for t, ks in keys.items()}
    edges, has_tag, labels = _read_relationships(store, opts, index, offers)
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
    return data, schema


def _read_nodes(
    store: GraphStore, opts: ExportOptions
) -> tuple[
    dict[str, list[str]], dict[str, list[float]], dict[str, str], dict[str, str], dict[str, str]
]:
    keys: dict[str, list[str]] = {t: [] for t in NODE_TYPES.values()}
    utt_emb: dict[str, list[float]] = {}
    utt_text: dict[str, str] = {}
    value_types: dict[str, str] = {}
    for label, ntype in NODE_TYPES.items():
        if ntype == "utterance" and not opts.include_text:
            continue
        for batch in store.iter_nodes(label, opts.batch_size):
            for node in batch:
                keys[ntype].append(node.key)
                if ntype == "utterance":
                    emb = node.props.get("embedding")
                    if isinstance(emb, list) and emb:
                        utt_emb[node.key] = [float(v) for v in emb]
                    utt_text[node.key] = str(node.props.get("text") or "")
                elif ntype == "tag" and isinstance(node.props.get("value_type"), str):
                    value_types[node.key] = str(node.props["value_type"])
    offers: dict[str, str] = {}
    for batch in store.iter_nodes("Offer", opts.batch_size):
        for node in batch:
            outcome = node.props.get("outcome")
            offers[node.key] = outcome if isinstance(outcome, str) else "offered"
    for ntype in keys:
        keys[ntype].sort()
    return keys, utt_emb, utt_text, offers, value_types


def _read_relationships(
    store: GraphStore,
    opts: ExportOptions,
    index: dict[str, dict[str, int]],
    offers: dict[str, str],
) -> tuple[
    dict[EdgeType, _Edges],
    tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    list[tuple[int, str, float]],
]:
    import numpy as np

    edges: dict[EdgeType, _Edges] = {}
    chunks: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] = []
    for rel_type, name in _RELATIONS.items():
        if rel_type in ("SAID", "MENTIONS") and not opts.include_text:
            continue
        for batch in store.iter_relationships(rel_type, opts.batch_size):
            if rel_type == "HAS_TAG":
                chunks.append(_has_tag_chunk(batch, index))
                continue
            for rel in batch:
                src_t, dst_t = NODE_TYPES.get(rel.start.label), NODE_TYPES.get(rel.end.label)
                if src_t is None or dst_t is None:
                    continue
                s, d = index[src_t].get(rel.start.key), index[dst_t].get(rel.end.key)
                if s is None or d is None:
                    continue
                rel_name = name
                if rel_type == "MENTIONS" and _negated(rel):
                    rel_name = "mentions_negated"
                e = edges.setdefault((src_t, rel_name, dst_t), _Edges())
                e.src.append(s)
                e.dst.append(d)
                e.weight.append(_weight(rel, _WEIGHT_PROP.get(rel_type)))
    _fold_offers(store, opts, index, offers, edges)
    labels: list[tuple[int, str, float]] = []
    for batch in store.iter_relationships("RATED", opts.batch_size):
        for rel in batch:
            c = index["customer"].get(rel.start.key)
            score = rel.props.get("score")
            if c is not None and isinstance(score, int | float) and not isinstance(score, bool):
                labels.append((c, rel.end.key, float(score)))
    c_idx = np.concatenate([ch[0] for ch in chunks]) if chunks else np.zeros(0, np.int64)
    b_idx = np.concatenate([ch[1] for ch in chunks]) if chunks else np.zeros(0, np.int64)
    raw = np.concatenate([ch[2] for ch in chunks]) if chunks else np.zeros(0, np.float64)
    if c_idx.size:
        e = edges.setdefault(("customer", "has_tag", "tag_bin"), _Edges())
        e.src.frombytes(c_idx.tobytes())
        e.dst.frombytes(b_idx.tobytes())
        e.weight.frombytes(np.ones(c_idx.size, dtype=np.float32).tobytes())
    return edges, (c_idx, b_idx, raw), labels


def _has_tag_chunk(
    batch: list[Relationship], index: dict[str, dict[str, int]]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]:
    import numpy as np

    cust, bins = index["customer"], index["tag_bin"]
    cs: list[int] = []
    bs: list[int] = []
    vs: list[float] = []
    for rel in batch:
        c, b = cust.get(rel.start.key), bins.get(rel.end.key)
        if c is None or b is None:
            continue
        value = rel.props.get("value")
        cs.append(c)
        bs.append(b)
        vs.append(_as_float(value))
    return np.array(cs, np.int64), np.array(bs, np.int64), np.array(vs, np.float64)


def _fold_offers(
    store: GraphStore,
    opts: ExportOptions,
    index: dict[str, dict[str, int]],
    offers: dict[str, str],
    edges: dict[EdgeType, _Edges],
) -> None:
    """Customer -RECEIVED-> Offer -OF_STRATEGY-> Strategy becomes customer -received-> strategy."""
    strategy_of: dict[str, int] = {}
    for batch in store.iter_relationships("OF_STRATEGY", opts.batch_size):
        for rel in batch:
            s = index["strategy"].get(rel.end.key)
            if s is not None:
                strategy_of[rel.start.key] = s
    for batch in store.iter_relationships("RECEIVED", opts.batch_size):
        for rel in batch:
            c, s = index["customer"].get(rel.start.key), strategy_of.get(rel.end.key)
            if c is None or s is None:
                continue
            outcome = offers.get(rel.end.key, "offered")
            onehot = [float(outcome == o) for o in OUTCOMES]
            onehot.append(float(outcome not in OUTCOMES))
            e = edges.setdefault(("customer", "received", "strategy"), _Edges())
            e.src.append(c)
            e.dst.append(s)
            e.weight.append(1.0)
            e.attr.append(onehot)


def _negated(rel: Relationship) -> bool:
    """A mention that is negated or marked resolved ("no longer a problem")."""
    return bool(rel.props.get("negated")) or bool(rel.props.get("resolved"))


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return math.nan
    try:
        out = float(value)
    except ValueError:
        return math.nan
    return out if math.isfinite(out) else math.nan


def _weight(rel: Relationship, prop: str | None) -> float:
    if prop is None:
        return 1.0
    value = _as_float(rel.props.get(prop))
    return 1.0 if math.isnan(value) else value


def _bin_tags(bins: list[str], bin_of: _Edges | None, tags: list[str]) -> list[str]:
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
    edges: dict[EdgeType, _Edges],
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
    data: HeteroData, et: EdgeType, edges: dict[EdgeType, _Edges], schema: FeatureSchema
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
    import torch

    col = {d: j for j, d in enumerate(domains)}
    y = torch.zeros((len(customers), len(domains)))
    mask = torch.zeros((len(customers), len(domains)), dtype=torch.bool)
    for c, domain, score in labels:
        j = col.get(domain)
        if j is not None:
            y[c, j] = score
            mask[c, j] = True
    return y, mask
