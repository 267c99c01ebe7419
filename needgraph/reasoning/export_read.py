"""Streaming readers of the export: nodes and relationships through the public store API.

Everything here reads a store in batches (``iter_nodes`` / ``iter_relationships``) and turns keys
into integer indices; :mod:`needgraph.reasoning.export` assembles the ``HeteroData``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from needgraph.graph.base import GraphStore
from needgraph.graph.records import Relationship
from needgraph.reasoning.features import NODE_TYPES, EdgeType

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

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



class Edges:
    """Growing edge list of one edge type (int arrays, weights, attributes)."""

    def __init__(self) -> None:
        from array import array

        self.src = array("q")
        self.dst = array("q")
        self.weight = array("f")
        self.attr: list[list[float]] = []


def read_nodes(
    store: GraphStore, batch_size: int, include_text: bool
) -> tuple[
    dict[str, list[str]], dict[str, list[float]], dict[str, str], dict[str, str], dict[str, str]
]:
    """Stream the nodes of every exported label.

    Args:
        store: The store.
        batch_size: Nodes per round trip.
        include_text: Read utterances.

    Returns:
        ``(keys, embeddings, texts, offer outcomes, tag value types)``: sorted keys per node type;
        utterance key -> embedding and -> text; offer key -> outcome; tag id -> ``value_type``.
    """
    keys: dict[str, list[str]] = {t: [] for t in NODE_TYPES.values()}
    utt_emb: dict[str, list[float]] = {}
    utt_text: dict[str, str] = {}
    value_types: dict[str, str] = {}
    for label, ntype in NODE_TYPES.items():
        if ntype == "utterance" and not include_text:
            continue
        for batch in store.iter_nodes(label, batch_size):
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
    for batch in store.iter_nodes("Offer", batch_size):
        for node in batch:
            outcome = node.props.get("outcome")
            offers[node.key] = outcome if isinstance(outcome, str) else "offered"
    for ntype in keys:
        keys[ntype].sort()
    return keys, utt_emb, utt_text, offers, value_types


def read_relationships(
    store: GraphStore,
    batch_size: int,
    include_text: bool,
    index: dict[str, dict[str, int]],
    offers: dict[str, str],
) -> tuple[
    dict[EdgeType, Edges],
    tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]],
    list[tuple[int, str, float]],
]:
    """Stream every exported relationship type, mapping endpoint keys to node indices.

    Args:
        store: The store.
        batch_size: Relationships per round trip.
        include_text: Read ``SAID`` and ``MENTIONS``.
        index: Node type -> key -> index.
        offers: Offer key -> outcome (``RECEIVED`` + ``OF_STRATEGY`` are folded into
            ``customer -received-> strategy``).

    Returns:
        ``(edges, has_tag, labels)``: growing edge lists per edge type; the ``HAS_TAG`` customer
        indices, bin indices and raw values (NaN when not numeric), each ``[e]``; and
        ``(customer index, domain key, score)`` per ``RATED`` relationship.
    """
    import numpy as np

    edges: dict[EdgeType, Edges] = {}
    chunks: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]] = []
    for rel_type, name in _RELATIONS.items():
        if rel_type in ("SAID", "MENTIONS") and not include_text:
            continue
        for batch in store.iter_relationships(rel_type, batch_size):
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
                e = edges.setdefault((src_t, rel_name, dst_t), Edges())
                e.src.append(s)
                e.dst.append(d)
                e.weight.append(_weight(rel, _WEIGHT_PROP.get(rel_type)))
    _fold_offers(store, batch_size, index, offers, edges)
    labels: list[tuple[int, str, float]] = []
    for batch in store.iter_relationships("RATED", batch_size):
        for rel in batch:
            c = index["customer"].get(rel.start.key)
            score = rel.props.get("score")
            if c is not None and isinstance(score, int | float) and not isinstance(score, bool):
                labels.append((c, rel.end.key, float(score)))
    c_idx = np.concatenate([ch[0] for ch in chunks]) if chunks else np.zeros(0, np.int64)
    b_idx = np.concatenate([ch[1] for ch in chunks]) if chunks else np.zeros(0, np.int64)
    raw = np.concatenate([ch[2] for ch in chunks]) if chunks else np.zeros(0, np.float64)
    if c_idx.size:
        e = edges.setdefault(("customer", "has_tag", "tag_bin"), Edges())
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
    batch_size: int,
    index: dict[str, dict[str, int]],
    offers: dict[str, str],
    edges: dict[EdgeType, Edges],
) -> None:
    """Customer -RECEIVED-> Offer -OF_STRATEGY-> Strategy becomes customer -received-> strategy."""
    strategy_of: dict[str, int] = {}
    for batch in store.iter_relationships("OF_STRATEGY", batch_size):
        for rel in batch:
            s = index["strategy"].get(rel.end.key)
            if s is not None:
                strategy_of[rel.start.key] = s
    for batch in store.iter_relationships("RECEIVED", batch_size):
        for rel in batch:
            c, s = index["customer"].get(rel.start.key), strategy_of.get(rel.end.key)
            if c is None or s is None:
                continue
            outcome = offers.get(rel.end.key, "offered")
            onehot = [float(outcome == o) for o in OUTCOMES]
            onehot.append(float(outcome not in OUTCOMES))
            e = edges.setdefault(("customer", "received", "strategy"), Edges())
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


