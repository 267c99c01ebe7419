"""Streaming readers of the export: nodes and relationships through the public store API.

Everything here reads a store in batches (``iter_nodes`` / ``iter_relationships``) and turns keys
into integer indices; :mod:`needgraph.reasoning.export` assembles the ``HeteroData``.
"""

from __future__ import annotations

import math
from itertools import compress, repeat
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
#: The only relationship properties the export reads (nothing else is decoded).
_PROPS: dict[str, tuple[str, ...]] = {
    "HAS_TAG": ("value",),
    "INDICATES": ("weight",),
    "MENTIONS": ("confidence", "negated", "resolved"),
}
OUTCOMES: tuple[str, ...] = ("offered", "accepted", "declined")
_NUMBER_TYPES = frozenset({int, float})  # not bool: True is no measurement
_STR_TYPES = frozenset({str})


class Edges:
    """Growing edge list of one edge type (int arrays, weights, attributes)."""

    def __init__(self) -> None:
        from array import array

        self.src = array("q")
        self.dst = array("q")
        self.weight = array("f")
        self.attr: list[list[float]] = []

    def extend(
        self, src: NDArray[np.int64], dst: NDArray[np.int64], weight: NDArray[np.float32]
    ) -> None:
        """Append edges: source and destination indices and weights, each ``[e]``."""
        import numpy as np

        self.src.frombytes(np.ascontiguousarray(src, dtype=np.int64).tobytes())
        self.dst.frombytes(np.ascontiguousarray(dst, dtype=np.int64).tobytes())
        self.weight.frombytes(np.ascontiguousarray(weight, dtype=np.float32).tobytes())


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

    Reads column batches (:meth:`GraphStore.iter_relationship_columns`) carrying only the
    properties the export uses, and maps keys to indices a whole batch at a time.

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
        props = _PROPS.get(rel_type, ())
        for cols in store.iter_relationship_columns(rel_type, props, batch_size):
            src_t, dst_t = NODE_TYPES.get(cols.start_label), NODE_TYPES.get(cols.end_label)
            if src_t is None or dst_t is None or not len(cols):
                continue
            s, d = _indices(index[src_t], cols.start_keys), _indices(index[dst_t], cols.end_keys)
            ok = (s >= 0) & (d >= 0)
            if rel_type == "HAS_TAG":
                chunks.append((s[ok], d[ok], floats(cols.props["value"])[ok]))
                continue
            weight = np.ones(len(cols), dtype=np.float32)
            if rel_type in _WEIGHT_PROP:
                w = floats(cols.props[_WEIGHT_PROP[rel_type]])
                weight = np.where(np.isnan(w), 1.0, w).astype(np.float32)
            negated = np.zeros(len(cols), dtype=bool)
            if rel_type == "MENTIONS":
                negated = np.array(
                    [bool(n) or bool(r) for n, r in
                     zip(cols.props["negated"], cols.props["resolved"], strict=True)],
                    dtype=bool,
                )
            for rel_name, pick in ((name, ok & ~negated), ("mentions_negated", ok & negated)):
                if pick.any():
                    edges.setdefault((src_t, rel_name, dst_t), Edges()).extend(
                        s[pick], d[pick], weight[pick]
                    )
    _fold_offers(store, batch_size, index, offers, edges)
    labels: list[tuple[int, str, float]] = []
    for cols in store.iter_relationship_columns("RATED", ("score",), batch_size):
        if cols.start_label != "Customer":
            continue
        cs = _indices(index["customer"], cols.start_keys).tolist()
        for c, domain, score in zip(cs, cols.end_keys, cols.props["score"], strict=True):
            if c >= 0 and isinstance(score, int | float) and not isinstance(score, bool):
                labels.append((c, domain, float(score)))
    c_idx = np.concatenate([ch[0] for ch in chunks]) if chunks else np.zeros(0, np.int64)
    b_idx = np.concatenate([ch[1] for ch in chunks]) if chunks else np.zeros(0, np.int64)
    raw = np.concatenate([ch[2] for ch in chunks]) if chunks else np.zeros(0, np.float64)
    if c_idx.size:
        e = edges.setdefault(("customer", "has_tag", "tag_bin"), Edges())
        e.extend(c_idx, b_idx, np.ones(c_idx.size, dtype=np.float32))
    return edges, (c_idx, b_idx, raw), labels


def _indices(table: dict[str, int], keys: list[str]) -> NDArray[np.int64]:
    """Index of every key in ``table``, ``-1`` where absent; shape ``[len(keys)]``."""
    import numpy as np

    return np.fromiter(map(table.get, keys, repeat(-1)), dtype=np.int64, count=len(keys))


def floats(values: list[Any]) -> NDArray[np.float64]:
    """:func:`_as_float` of every value: shape ``[len(values)]``, NaN for missing / non-numeric.

    Vectorised: numbers convert in one ``numpy`` call, strings once per distinct string (tag
    values repeat), everything else (``None``, booleans, lists) is NaN.
    """
    import numpy as np

    n = len(values)
    out = np.full(n, np.nan)
    types = list(map(type, values))
    number = np.fromiter(map(_NUMBER_TYPES.__contains__, types), dtype=bool, count=n)
    if number.any():
        picked = list(compress(values, number))
        try:
            out[number] = np.array(picked, dtype=np.float64)
        except OverflowError:  # an integer beyond float range
            out[number] = [_as_float(v) for v in picked]
    text = np.fromiter(map(_STR_TYPES.__contains__, types), dtype=bool, count=n)
    if text.any():
        strings = list(compress(values, text))
        memo = {v: _as_float(v) for v in set(strings)}
        out[text] = np.fromiter(map(memo.__getitem__, strings), dtype=np.float64,
                                count=len(strings))
    out[~np.isfinite(out)] = np.nan
    return out


def _fold_offers(
    store: GraphStore,
    batch_size: int,
    index: dict[str, dict[str, int]],
    offers: dict[str, str],
    edges: dict[EdgeType, Edges],
) -> None:
    """Customer -RECEIVED-> Offer -OF_STRATEGY-> Strategy becomes customer -received-> strategy."""
    import numpy as np

    strategy_of: dict[str, int] = {}
    for cols in store.iter_relationship_columns("OF_STRATEGY", (), batch_size):
        for offer, s in zip(cols.start_keys, _indices(index["strategy"], cols.end_keys).tolist(),
                            strict=True):
            if s >= 0:
                strategy_of[offer] = s
    for cols in store.iter_relationship_columns("RECEIVED", (), batch_size):
        c = _indices(index["customer"], cols.start_keys)
        s = _indices(strategy_of, cols.end_keys)
        ok = (c >= 0) & (s >= 0)
        if not ok.any():
            continue
        e = edges.setdefault(("customer", "received", "strategy"), Edges())
        e.extend(c[ok], s[ok], np.ones(int(ok.sum()), dtype=np.float32))
        for offer in np.asarray(cols.end_keys, dtype=object)[ok]:
            outcome = offers.get(offer, "offered")
            onehot = [float(outcome == o) for o in OUTCOMES]
            onehot.append(float(outcome not in OUTCOMES))
            e.attr.append(onehot)


def _negated(rel: Relationship) -> bool:
    """A mention that is negated or marked resolved ("no longer a problem")."""
    return bool(rel.props.get("negated")) or bool(rel.props.get("resolved"))


def _as_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return math.nan
    try:
        out = float(value)
    except (ValueError, OverflowError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def _weight(rel: Relationship, prop: str | None) -> float:
    if prop is None:
        return 1.0
    value = _as_float(rel.props.get(prop))
    return 1.0 if math.isnan(value) else value


