"""In-place updates of the exported graph and the cached star context for one customer.

Internals of :mod:`needgraph.reasoning.live`: append a customer or utterances, replace the
customer's edges (both directions, in place: :mod:`needgraph.reasoning.live_edges`; and the star
scorer's incoming-edge index) keeping the order of edges that stay, and recompute the cached
layer states of the customer and its new utterances from their neighbours' cached states,
exactly as the full-graph pass does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from needgraph.errors import ModelMismatchError
from needgraph.reasoning.live_edges import CustomerEdges, customer_edges
from needgraph.reasoning.live_grow import RowBuffers
from needgraph.reasoning.live_star import OUT, Edge, KeyIndex, Star

if TYPE_CHECKING:
    from torch import Tensor
    from torch_geometric.data import HeteroData

    from needgraph.reasoning.explain import Context, StarScorer
    from needgraph.reasoning.features import EdgeType, FeatureSchema

def append_customer(scorer: StarScorer, data: HeteroData, customer: str,
                    grow: RowBuffers) -> int:
    """Append a customer row everywhere the graph and the scorer index customers."""

    def zero_row(t: Tensor) -> Tensor:
        return grow.append(t, t.new_zeros((1, *t.shape[1:])))

    cust = data["customer"]
    c = int(cust.num_nodes)
    cust.node_key.append(customer)
    cust.num_nodes = c + 1
    cust.x, cust.y, cust.y_mask = zero_row(cust.x), zero_row(cust.y), zero_row(cust.y_mask)
    scorer.x = cust.x
    scorer.index[customer] = c
    if scorer.labels is not None:  # label trick: a new customer shows no label
        scorer.labels = zero_row(scorer.labels)
    for et in scorer.in_types:
        src, w, ptr = scorer._in[et]
        scorer._in[et] = (src, w, grow.append(ptr, ptr[-1:].clone()))
    for layers in scorer.states:
        for h in layers:
            h["customer"] = zero_row(h["customer"])
    return c


def append_utterances(ctx: Context, data: HeteroData, schema: FeatureSchema, keys: KeyIndex,
                       star: Star, c: int) -> list[int]:
    """Append the star's utterances the graph lacks, with their MENTIONS; return their indices."""
    import torch

    from needgraph.reasoning.export_read import _negated, _weight
    from needgraph.reasoning.features import NODE_TYPES

    if "utterance" not in schema.node_types:
        return []
    table = keys.of("utterance")
    fresh = [k for k in star.said if k not in table]
    if not fresh:
        return []
    utt = data["utterance"]
    dim = schema.embedding_dim
    rows = torch.zeros(len(fresh), dim + 1)
    added: list[int] = []
    for i, key in enumerate(fresh):
        emb = star.utterances[key].props.get("embedding")
        if isinstance(emb, list) and emb:
            if len(emb) != dim:
                raise ModelMismatchError(
                    f"utterance {key!r} has a {len(emb)}-d embedding; the model expects {dim}",
                    hint="Link event texts with the embedding model the model was trained on "
                    "(NEEDGRAPH_EMBEDDING_MODEL), or retrain with `needgraph train`.")
            rows[i, :dim] = torch.tensor([float(v) for v in emb])
            rows[i, dim] = 1.0
        u = int(utt.num_nodes)
        utt.node_key.append(key)
        utt.num_nodes = u + 1
        if "text" in utt:
            utt.text.append(str(star.utterances[key].props.get("text") or ""))
        table[key] = u
        added.append(u)
        for rel in star.mentions.get(key, []):
            dst_t = NODE_TYPES.get(rel.end.label)
            name = "mentions_negated" if _negated(rel) else "mentions"
            d = keys.of(dst_t).get(rel.end.key) if dst_t else None
            if dst_t is None or d is None or ("utterance", name, dst_t) not in schema.edge_types:
                continue
            append_edge(data, ("utterance", name, dst_t), u, d, _weight(rel, "confidence"), None)
            if name == "mentions" and dst_t == "cause":
                ctx.concepts.mentions[key].append((rel.end.key, _weight(rel, "confidence")))
    utt.x = keys.rows.append(utt.x, rows.to(utt.x.dtype))
    for layers in ctx.scorer.states:
        for h in layers:
            if "utterance" in h:
                state = h["utterance"]
                h["utterance"] = keys.rows.append(state, state.new_zeros(len(fresh),
                                                                         *state.shape[1:]))
    return added


def append_edge(data: HeteroData, et: EdgeType, s: int, d: int, w: float,
                 attr: tuple[float, ...] | None) -> None:
    """Append one edge and its reverse to the graph."""
    import torch

    src_t, rel, dst_t = et
    for edge_type, a, b in ((et, s, d), ((dst_t, f"rev_{rel}", src_t), d, s)):
        if edge_type not in data.edge_types:
            continue
        store = data[edge_type]
        store.edge_index = torch.cat([store.edge_index, torch.tensor([[a], [b]])], dim=1)
        store.edge_weight = torch.cat([store.edge_weight, torch.tensor([w])])
        if "edge_attr" in store and attr is not None:
            store.edge_attr = torch.cat([store.edge_attr, torch.tensor([attr])])


def place_customer_edges(scorer: StarScorer, data: HeteroData) -> None:
    """Index where every customer's edges sit and make room for more (~1 s at 100k).

    Done by a server's warm-up, so that its first events do not pay for it.
    """
    for rel, dst_t in OUT.values():
        fwd, rev = ("customer", rel, dst_t), (dst_t, f"rev_{rel}", "customer")
        if fwd in data.edge_types or rev in data.edge_types:
            customer_edges(scorer.placements, data, fwd).reserve(data)


def replace_customer_edges(scorer: StarScorer, data: HeteroData, c: int, rel: str,
                            edges: list[Edge]) -> bool:
    """Make the customer's ``rel`` edges equal ``edges``; return whether anything changed.

    Edges that stay keep their order (their sum order, hence bit-identical predictions); new
    ones follow. The graph's edge tensors (both directions, updated in place by
    :class:`~needgraph.reasoning.live_edges.CustomerEdges`: O(the customer's edges)) and the
    scorer's incoming-edge index follow.
    """
    import torch

    dst_t = {r: t for r, t in OUT.values()}[rel]
    fwd, rev = ("customer", rel, dst_t), (dst_t, f"rev_{rel}", "customer")
    if fwd not in data.edge_types and rev not in data.edge_types:
        return False
    place = customer_edges(scorer.placements, data, fwd)
    old = _old_edges(data, place, c)
    edges = _as_stored(edges)
    if sorted(old, key=_order) == sorted(edges, key=_order):
        return False
    pool = list(edges)
    ordered: list[Edge] = []
    for edge in old:
        if edge in pool:
            pool.remove(edge)
            ordered.append(edge)
    ordered += pool
    dst = torch.tensor([e[0] for e in ordered], dtype=torch.long)
    w = torch.tensor([e[1] for e in ordered], dtype=torch.float32)
    attr = None
    width = _attr_width(data, fwd, rev)
    if width is not None:
        rows = [list(e[2]) if e[2] else [0.0] * width for e in ordered]
        attr = torch.tensor(rows, dtype=torch.float32).reshape(-1, width)
    place.replace(data, c, dst, w, attr)
    if rev in scorer._in:
        src, ws, ptr = scorer._in[rev]
        lo, hi = (int(ptr[c]), int(ptr[c + 1])) if c + 1 < int(ptr.numel()) else (0, 0)
        moved = scorer.moved_in.setdefault(rev, {})
        if c not in moved and hi - lo == len(ordered):  # e.g. a tag's bin replaced: in place
            src[lo:hi] = dst
            ws[lo:hi] = w.clamp_min(1e-6)
        else:  # another count: the customer's edges move out of the packed index
            moved[c] = (dst, w.clamp_min(1e-6))
    return True


def _as_stored(edges: list[Edge]) -> list[Edge]:
    """``edges`` with weights and attributes rounded to float32, as the graph holds them."""
    import torch

    if not edges:
        return edges
    weights = torch.tensor([e[1] for e in edges], dtype=torch.float32).tolist()
    return [(d, w, tuple(torch.tensor(a, dtype=torch.float32).tolist()) if a else a)
            for (d, _, a), w in zip(edges, weights, strict=True)]


def _attr_width(data: HeteroData, fwd: EdgeType, rev: EdgeType) -> int | None:
    for et in (fwd, rev):
        if et in data.edge_types and "edge_attr" in data[et]:
            return int(data[et].edge_attr.shape[1])
    return None


def _order(edge: Edge) -> tuple[int, float, tuple[float, ...]]:
    return edge[0], edge[1], edge[2] or ()


def _old_edges(data: HeteroData, place: CustomerEdges, c: int) -> list[Edge]:
    """The customer's current edges in the scorer's order, read from the graph's tensors."""
    at = place.of(c)
    et = place.types[0]
    store = data[et]
    other = 1 if et == place.fwd else 0
    dsts = store.edge_index[other][at].tolist()
    weights = store.edge_weight[at].tolist() if "edge_weight" in store else [1.0] * len(dsts)
    if "edge_attr" not in store:
        return [(d, w, None) for d, w in zip(dsts, weights, strict=True)]
    attrs = [tuple(a) for a in store.edge_attr[at].tolist()]
    return list(zip(dsts, weights, attrs, strict=True))


# --------------------------------------------------------------------------- layer states
def recompute_states(scorer: StarScorer, data: HeteroData, c: int, utts: list[int]) -> None:
    """Cached layer states of the customer and its new utterances, from their neighbours'.

    A customer's own cached states feed only the states of utterances added to it later (its
    own prediction is recomputed from its star on every call), so :func:`refresh_customer
    <needgraph.reasoning.live.refresh_customer>` runs this when a customer or an utterance is
    added; the customer's states are then brought up to date first, layer by layer, up to the
    last cached layer but one (the last one would only feed a layer the cache does not hold).
    """
    from needgraph.reasoning.explain import _layer, _normalise
    from needgraph.reasoning.model import GraphInputs

    for member, layers in zip(scorer.model.members, scorer.states, strict=True):
        n = {t: 0 for t in member.node_types}
        inputs = GraphInputs({"customer": scorer.x[c : c + 1]}, {}, {}, n | {"customer": 1})
        if scorer.labels is not None:
            inputs.labels = scorer.labels[c : c + 1]
        layers[0]["customer"][c] = member.encode(inputs)["customer"][0]
        if utts and "utterance" in layers[0]:
            x = data["utterance"].x[utts]
            h0 = member.encode(GraphInputs({"utterance": x}, {}, {}, n | {"utterance": len(utts)}))
            layers[0]["utterance"][utts] = h0["utterance"]
        norm = _normalise(member)
        for lay in range(len(layers) - 1):
            targets: list[tuple[str, int, dict[EdgeType, tuple[Tensor, Tensor]]]] = []
            if lay + 2 < len(layers):  # the last cached customer state feeds no one
                targets.append(("customer", c, {et: scorer.edges_of(c, et)
                                                for et in scorer.in_types}))
            targets += [("utterance", u, {et: _in_edges(data, et, u) for et in member.edge_types
                                          if et[2] == "utterance" and et in data.edge_types})
                        for u in utts]
            new = []
            for t, i, ins in targets:
                h_sub, edges = _star(scorer, layers[lay], t, i, ins,
                                     norm if t == "customer" else True)
                new.append(_layer(member, lay, h_sub, edges, only=t)[t][0])
            for (t, i, _), state in zip(targets, new, strict=True):
                layers[lay + 1][t][i] = state


def _star(scorer: StarScorer, states: dict[str, Tensor], t: str, i: int,
          ins: dict[EdgeType, tuple[Tensor, Tensor]], normalise: bool
          ) -> tuple[dict[str, Tensor], dict[EdgeType, Tensor]]:
    """One node's star at one layer: its own state, its sources' states, one adjacency per type.

    Edge types that share a source type (``rev_mentions`` and ``rev_mentions_negated`` from
    causes) share one block of source states; each type's ``[1, k]`` adjacency weighs only its
    own columns.
    """
    import torch

    h_sub: dict[str, Tensor] = {t: states[t][i : i + 1]}
    by_source: dict[str, list[EdgeType]] = {}
    for et in ins:
        if et[0] != t:
            by_source.setdefault(et[0], []).append(et)
    edges: dict[EdgeType, Tensor] = {}
    for source, types in by_source.items():
        src = torch.cat([ins[et][0] for et in types])
        h_sub[source] = states[source][src]
        k, offset = int(src.numel()), 0
        for et in types:
            w = ins[et][1].float().clamp_min(1e-6)
            ww = torch.zeros(1, k)
            ww[0, offset : offset + w.numel()] = w
            offset += int(w.numel())
            edges[et] = scorer._adjacency(ww, k, 1, normalise)
    return h_sub, edges


def _in_edges(data: HeteroData, et: EdgeType, i: int) -> tuple[Tensor, Tensor]:
    """Sources ``[k]`` and weights ``[k]`` of node ``i``'s incoming ``et`` edges (a scan)."""
    store = data[et]
    mine = store.edge_index[1] == i
    return store.edge_index[0][mine], store.edge_weight[mine]


def update_cause_customers(ctx: Context, data: HeteroData, customer: str, c: int) -> None:
    """Keep recommend's cache of "customers with evidence for a cause" current.

    The customer's edges are read at their indexed positions (no scan of the graph's edge
    tensors); when the customer's causes changed, :func:`~needgraph.reasoning.recommend.
    note_cause_change` has recommend recount the cached tallies of the offers it received.
    """
    cache: dict[str, set[str]] | None = getattr(ctx, "_cause_customers", None)
    if cache is None:
        return  # built from the (updated) graph on first use
    before = {cause for cause, members in cache.items() if customer in members}
    after: set[str] = set()
    for et, table in ((("customer", "has_tag", "tag_bin"), ctx.concepts.indicates),
                      (("customer", "said", "utterance"), ctx.concepts.mentions)):
        if et not in data.edge_types:
            continue
        keys = data[et[2]].node_key
        place = customer_edges(ctx.scorer.placements, data, et)
        for d, _w, _attr in _old_edges(data, place, c):
            after.update(cause for cause, _w in table.get(keys[d], []))
    if before == after:
        return
    for cause in before - after:
        cache[cause].discard(customer)
    for cause in after - before:
        cache.setdefault(cause, set()).add(customer)
    from needgraph.reasoning.recommend import note_cause_change

    note_cause_change(ctx, customer)
