"""One customer's star as the store holds it, turned into the export's features and edges.

Internals of :mod:`needgraph.reasoning.live`: :func:`read_star` reads the customer's outgoing
``HAS_TAG`` / ``SAID`` (+ ``MENTIONS``) / ``RECEIVED`` (+ ``OF_STRATEGY``) / ``RATED`` relationships
in two reads (:meth:`~needgraph.graph.base.GraphStore.outgoing`, any backend);
:func:`edge_lists`, :func:`customer_row` and :func:`set_labels` rebuild exactly what
:func:`~needgraph.reasoning.export.export_graph` builds for that customer. :class:`KeyIndex` maps
node keys to the graph's indices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from needgraph.errors import CustomerNotFoundError
from needgraph.graph.records import Node, NodeRef, Relationship
from needgraph.reasoning.live_grow import RowBuffers

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray
    from torch import Tensor
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.reasoning.explain import Context
    from needgraph.reasoning.features import FeatureSchema

#: The customer's own outgoing relationship types, and those read beyond its utterances and offers.
STAR_TYPES = ["HAS_TAG", "SAID", "RECEIVED", "RATED"]
BEYOND_TYPES = ["MENTIONS", "OF_STRATEGY"]
#: Store type -> (relation, destination node type) of the customer's outgoing edges.
OUT = {"HAS_TAG": ("has_tag", "tag_bin"), "SAID": ("said", "utterance"),
       "RECEIVED": ("received", "strategy")}

Edge = tuple[int, float, tuple[float, ...] | None]  # destination index, weight, attributes


@dataclass
class Star:
    """One customer's star as the store holds it (export's view).

    Attributes:
        has_tag: ``(bin key, raw value as float, NaN when not numeric)`` per HAS_TAG.
        said: Utterance keys.
        utterances: Utterance key -> node (text, embedding).
        mentions: Utterance key -> its MENTIONS relationships.
        received: ``(strategy key, outcome)`` per RECEIVED offer with a strategy.
        ratings: Domain -> score.
    """

    has_tag: list[tuple[str, float]] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    utterances: dict[str, Node] = field(default_factory=dict)
    mentions: dict[str, list[Relationship]] = field(default_factory=dict)
    received: list[tuple[str, str]] = field(default_factory=list)
    ratings: dict[str, float] = field(default_factory=dict)


def read_star(store: GraphStore, customer: str) -> Star:
    """Read the customer's star in two reads (any backend).

    The first reads the customer's own relationships with its utterances and offers (not the
    ~180 tag bins' properties, which the star does not use); the second, only when it has
    utterances or offers, what they mention and which strategy each offer was.

    Raises:
        CustomerNotFoundError: The store has no such customer.
    """
    from needgraph.reasoning.export_read import _as_float

    ref = NodeRef("Customer", customer)
    own = store.outgoing([ref], STAR_TYPES, end_props=["Utterance", "Offer"])
    if not own.relationships and store.get_node(ref) is None:
        raise CustomerNotFoundError(f"customer {customer!r} is not in the store",
                                    customer=customer)
    beyond = [r.end for r in own.relationships if r.type in ("SAID", "RECEIVED")]
    further = store.outgoing(beyond, BEYOND_TYPES).relationships if beyond else ()
    star = Star()
    strategy_of = {r.start.key: r.end.key for r in further if r.type == "OF_STRATEGY"}
    for rel in further:
        if rel.type == "MENTIONS":
            star.mentions.setdefault(rel.start.key, []).append(rel)
    for rel in own.relationships:
        if rel.type == "HAS_TAG":
            star.has_tag.append((rel.end.key, _as_float(rel.props.get("value"))))
        elif rel.type == "SAID":
            star.said.append(rel.end.key)
            star.utterances[rel.end.key] = own.ends.get(rel.end, Node("Utterance", rel.end.key, {}))
        elif rel.type == "RECEIVED" and rel.end.key in strategy_of:
            offer = own.ends.get(rel.end)
            outcome = offer.props.get("outcome") if offer is not None else None
            star.received.append((strategy_of[rel.end.key],
                                  outcome if isinstance(outcome, str) else "offered"))
        elif rel.type == "RATED":
            score = rel.props.get("score")
            if isinstance(score, int | float) and not isinstance(score, bool):
                star.ratings[rel.end.key] = float(score)
    return star


class KeyIndex:
    """Key -> index per node type of one context's graph (built lazily, kept up to date)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._tables: dict[str, dict[str, int]] = {}
        #: Customer index -> bytes of the feature-row inputs last encoded (skips re-encoding).
        self.row_inputs: dict[int, bytes] = {}
        #: Spare rows behind the node tensors that appends grow (customers, utterances).
        self.rows = RowBuffers()

    def of(self, node_type: str) -> dict[str, int]:
        """Key -> index of ``node_type`` (kept current by the appends of a refresh)."""
        table = self._tables.get(node_type)
        if table is None:
            data = self.ctx.scorer.data
            keys = data[node_type].node_key if node_type in data.node_types else []
            table = self._tables[node_type] = {k: i for i, k in enumerate(keys)}
        return table


_INDEXES: dict[int, KeyIndex] = {}


def key_index(ctx: Context) -> KeyIndex:
    """The :class:`KeyIndex` of ``ctx`` (one per cached context)."""
    found = _INDEXES.get(id(ctx))
    if found is None or found.ctx is not ctx:
        if len(_INDEXES) > 8:
            _INDEXES.clear()
        found = _INDEXES[id(ctx)] = KeyIndex(ctx)
    return found


def edge_lists(schema: FeatureSchema, keys: KeyIndex, star: Star) -> dict[str, list[Edge]]:
    """The customer's outgoing edges per relation, as the export builds them."""
    from needgraph.reasoning.export_read import OUTCOMES

    out: dict[str, list[Edge]] = {}
    for store_type, (rel, dst_t) in OUT.items():
        if ("customer", rel, dst_t) not in schema.edge_types:
            continue
        table = keys.of(dst_t)
        edges: list[Edge] = []
        if store_type == "HAS_TAG":
            edges = [(table[b], 1.0, None) for b, _v in star.has_tag if b in table]
        elif store_type == "SAID":
            edges = [(table[u], 1.0, None) for u in star.said if u in table]
        else:
            for strategy, outcome in star.received:
                if strategy in table:
                    onehot = [float(outcome == o) for o in OUTCOMES]
                    edges.append((table[strategy], 1.0, (*onehot, float(outcome not in OUTCOMES))))
        out[rel] = edges
    return out


def customer_inputs(schema: FeatureSchema, keys: KeyIndex, star: Star,
                    lists: dict[str, list[Edge]]) -> tuple[NDArray[np.float64],
                                                          NDArray[np.float64]]:
    """The export's inputs of the customer's feature row.

    Returns:
        ``(values [1, len(schema.numeric)], degrees [1, len(schema.degree_relations)])``: raw
        numeric tag values (NaN = missing) and edge counts per degree relation.
    """
    import numpy as np

    col_of = {n.tag: i for i, n in enumerate(schema.numeric)}
    values = np.full((1, len(schema.numeric)), np.nan)
    bins = keys.of("tag_bin")
    for bin_key, raw in star.has_tag:
        col = col_of.get(bin_key.split("=", 1)[0])
        if bin_key in bins and col is not None and not math.isnan(raw):
            values[0, col] = raw
    degrees = np.zeros((1, len(schema.degree_relations)))
    for j, rel in enumerate(schema.degree_relations):
        degrees[0, j] = len(lists.get(rel, []))
    return values, degrees


def customer_row(schema: FeatureSchema, values: NDArray[np.float64],
                 degrees: NDArray[np.float64]) -> Tensor:
    """The customer's feature row ``[f]`` exactly as the export computes it.

    :func:`~needgraph.reasoning.encode.customer_matrix`'s arithmetic, vectorised over the tags
    of one row (:class:`RowEncoder`, built once per schema): the same float64 operations on the
    same values, so the row is bit-identical, at a fraction of the cost of one numpy call chain
    per tag.
    """
    import torch

    encoder = _ENCODERS.get(id(schema))
    if encoder is None or encoder.schema is not schema:
        if len(_ENCODERS) > 8:
            _ENCODERS.clear()
        encoder = _ENCODERS[id(schema)] = RowEncoder(schema)
    return torch.from_numpy(encoder.row(values, degrees))


class RowEncoder:
    """:func:`~needgraph.reasoning.encode.customer_matrix` of one row, vectorised over tags.

    Per numeric tag the export emits ``[z, missing, segment_1 .. segment_s]``, then one
    ``log1p(degree)`` per degree relation; this computes every z-score, missing flag and
    segment of the row in one numpy call each and gathers them into that order.

    Args:
        schema: The model's feature schema.
    """

    def __init__(self, schema: FeatureSchema) -> None:
        import numpy as np

        self.schema = schema
        tags = schema.numeric
        self.means = np.array([t.mean for t in tags], dtype=np.float64)
        self.stds = np.array([t.std for t in tags], dtype=np.float64)
        owner: list[int] = []
        lows: list[float] = []
        widths: list[float] = []
        z_at: list[int] = []
        miss_at: list[int] = []
        seg_at: list[int] = []
        col = 0
        for i, tag in enumerate(tags):
            z_at.append(col)
            miss_at.append(col + 1)
            col += 2
            knots = np.asarray(tag.knots, dtype=np.float64)
            if knots.size >= 2:
                width = np.maximum(np.diff(knots), 1e-12)
                for j in range(knots.size - 1):
                    owner.append(i)
                    lows.append(float(knots[j]))
                    widths.append(float(width[j]))
                    seg_at.append(col)
                    col += 1
        self.owner = np.array(owner, dtype=np.int64)
        self.lows = np.array(lows, dtype=np.float64)
        self.widths = np.array(widths, dtype=np.float64)
        self.z_at = np.array(z_at, dtype=np.int64)
        self.miss_at = np.array(miss_at, dtype=np.int64)
        self.seg_at = np.array(seg_at, dtype=np.int64)
        self.deg_at = np.arange(col, col + len(schema.degree_relations), dtype=np.int64)
        self.width = col + len(schema.degree_relations)
        if self.width != len(schema.customer_feature_names()):  # pragma: no cover - contract
            raise AssertionError(f"customer features: built {self.width}, schema says "
                                 f"{len(schema.customer_feature_names())}")

    def row(self, values: NDArray[np.float64], degrees: NDArray[np.float64]
            ) -> NDArray[np.float32]:
        """Features ``[f]`` (float32) of one customer.

        Args:
            values: Raw numeric tag values ``[1, len(schema.numeric)]``, NaN = missing.
            degrees: Degrees ``[1, len(schema.degree_relations)]``.
        """
        import numpy as np

        v = values[0]
        missing = np.isnan(v)
        filled = np.nan_to_num(v)
        out = np.empty(self.width, dtype=np.float64)
        z = np.where(missing, 0.0, (filled - self.means) / self.stds)
        out[self.z_at] = np.clip(z, -10.0, 10.0)
        out[self.miss_at] = missing.astype(np.float64)
        seg = np.clip((filled[self.owner] - self.lows) / self.widths, 0.0, 1.0)
        seg[missing[self.owner]] = 0.0
        out[self.seg_at] = seg
        out[self.deg_at] = np.log1p(degrees.reshape(1, -1))[0]
        return out.astype(np.float32)


_ENCODERS: dict[int, RowEncoder] = {}


def set_labels(data: HeteroData, schema: FeatureSchema, c: int, ratings: dict[str, float]) -> None:
    """The customer's observed labels (never model inputs: the label trick's inputs are fixed)."""
    y, mask = data["customer"].y, data["customer"].y_mask
    for j, domain in enumerate(schema.domains):
        score = ratings.get(domain)
        y[c, j] = score if score is not None else 0.0
        mask[c, j] = score is not None
