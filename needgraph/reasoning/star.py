"""The customer's *star*: batched re-prediction of one customer with evidence removed.

:class:`StarScorer` re-runs the trained GNN for one customer on its star: the customer's own input
features and its incoming edges (tag bins, utterances, offers), with every neighbour's layer states
taken from one cached full-graph pass. Many variants of the star (the customer with some evidence
removed) run as one batch, so leave-one-out attribution of all evidence items, the "all evidence
removed" baseline and the fidelity probes cost one small forward pass (milliseconds) instead of one
full-graph pass each. Removing a tag bin drops its ``has_tag`` edge and sets the tag's numeric
features to "missing"; removing an utterance drops its ``said`` edge; degree features follow.
(Neighbour states still hold the customer's own original contribution - a 1/degree second-order
effect - which is the approximation of the star.)
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from torch import Tensor
    from torch_geometric.data import HeteroData

    from needgraph.reasoning.heads import HeadOutput
    from needgraph.reasoning.live_edges import CustomerEdges
    from needgraph.reasoning.model import SatisfactionGNN
    from needgraph.reasoning.star_kernel import SageStarKernel
    from needgraph.reasoning.train import SatisfactionModel

EdgeType = tuple[str, str, str]


@dataclass(frozen=True)
class EvidenceItem:
    """One removable piece of a customer's evidence.

    Attributes:
        kind: ``tag`` (a HAS_TAG bin) or ``utterance`` (a SAID text).
        key: TagBin or Utterance key.
        edge_type: Incoming edge type into the customer that carries it.
        position: Index of the edge among the customer's edges of ``edge_type``.
    """

    kind: str
    key: str
    edge_type: EdgeType
    position: int


def _layer(
    model: SatisfactionGNN, layer: int, h: dict[str, Tensor], edges: Any, only: str | None = None
) -> dict[str, Tensor]:
    """One message-passing round exactly as :meth:`SatisfactionGNN.forward` runs it (eval mode)."""
    import torch
    from torch import nn

    agg = _convolve(model.convs[layer], h, edges)
    new: dict[str, Tensor] = {}
    for t in [only] if only else model.node_types:
        if t not in h:
            continue
        roots, norms = model.roots[layer], model.norms[layer]
        assert isinstance(roots, nn.ModuleDict) and isinstance(norms, nn.ModuleDict)
        update = roots[t](h[t])
        if agg.get(t) is not None:
            update = update + agg[t]
        new[t] = h[t] + model.drop(torch.relu(norms[t](update)))
    return new


def _convolve(conv: Any, h: dict[str, Tensor], edges: Mapping[EdgeType, Any]) -> dict[str, Any]:
    """``conv(h, edges)``; a summing ``HeteroConv`` runs only the edge types present.

    PyG's ``HeteroConv`` walks every edge type of the model to find the few a star holds; calling
    those convolutions directly and summing per destination is the same computation.
    """
    import torch
    from torch_geometric.nn import HeteroConv

    if not isinstance(conv, HeteroConv) or conv.aggr != "sum":
        return dict(conv(h, edges))
    outs: dict[str, list[Tensor]] = {}
    for et, ei in edges.items():
        src, _, dst = et
        if et not in conv.convs or (src not in h and dst not in h):
            continue
        x = h[src] if src == dst else (h.get(src), h.get(dst))
        outs.setdefault(dst, []).append(conv.convs[et](x, ei))
    return {t: xs[0] if len(xs) == 1 else torch.stack(xs).sum(0) for t, xs in outs.items()}


class StarScorer:
    """Batched re-prediction of one customer with evidence removed (see module docstring).

    Args:
        model: Trained model.
        data: The graph the model predicts (from :func:`~needgraph.reasoning.export.export_graph`).
    """

    def __init__(self, model: SatisfactionModel, data: HeteroData) -> None:
        import torch

        self.model, self.data = model, data
        self.schema = model.schema
        self.domains = list(self.schema.domains)
        self.states: list[list[dict[str, Tensor]]] = []
        self.labels: Tensor | None = None
        label_index = getattr(model, "label_index", None)
        if getattr(model.model_config, "label_trick", False) and label_index is not None:
            from needgraph.reasoning.train import label_features  # type: ignore[attr-defined]

            shown = torch.zeros(int(data["customer"].num_nodes), dtype=torch.bool)
            shown[label_index] = True
            self.labels = label_features(data["customer"].y, data["customer"].y_mask, shown)
        with torch.no_grad():
            for member in model.members:
                member.eval()
                inputs = member.prepare(data)
                if self.labels is not None:
                    inputs.labels = self.labels
                h = member.encode(inputs)
                layers = [h]
                if member.config.arch != "mlp":
                    for lay in range(len(member.convs) - 1):
                        h = _layer(member, lay, h, inputs.edges)
                        layers.append(h)
                self.states.append(layers)
        first = model.members[0]
        self.sparse = first.config.arch in ("sage", "rgcn", "mlp")
        self.in_types: list[EdgeType] = [
            et for et in first.edge_types if et[2] == "customer" and et in data.edge_types
        ]
        self._in: dict[EdgeType, tuple[Tensor, Tensor, Tensor]] = {}
        for et in self.in_types:
            ei = data[et].edge_index
            w = data[et].get("edge_weight")
            if w is None or w.numel() != ei.shape[1]:
                w = torch.ones(ei.shape[1])
            order = torch.argsort(ei[1], stable=True)
            dst = ei[1][order]
            ptr = torch.searchsorted(dst, torch.arange(int(data["customer"].num_nodes) + 1))
            self._in[et] = (ei[0][order], w[order].float().clamp_min(1e-6), ptr)
        self.x = data["customer"].x
        names = self.schema.customer_feature_names()
        self.col = {n: i for i, n in enumerate(names)}
        self.index = {k: i for i, k in enumerate(data["customer"].node_key)}
        self._edits: dict[str, list[tuple[int, float]]] = {}
        #: Incoming edges of customers whose edge count changed since the build, per edge type
        #: (read before ``_in``; see :mod:`needgraph.reasoning.live_graph`).
        self.moved_in: dict[EdgeType, dict[int, tuple[Tensor, Tensor]]] = {}
        #: Where each customer's edges sit in the graph's tensors, per ``customer -> X`` type.
        self.placements: dict[EdgeType, CustomerEdges] = {}
        #: Run ``sage`` members in closed form (:meth:`kernels`); ``False``: through modules.
        self.use_kernels = True
        self._kernels: list[SageStarKernel | None] | None = None

    # -- evidence ------------------------------------------------------------------------
    def edges_of(self, c: int, et: EdgeType) -> tuple[Tensor, Tensor]:
        """Source indices ``[e]`` and weights ``[e]`` of the customer's incoming ``et`` edges."""
        moved = self.moved_in.get(et)
        if moved:
            found = moved.get(c)
            if found is not None:
                return found
        src, w, ptr = self._in[et]
        lo, hi = int(ptr[c]), int(ptr[c + 1])
        return src[lo:hi], w[lo:hi]

    def evidence(self, c: int) -> list[EvidenceItem]:
        """The customer's removable evidence: its tag bins and its utterances."""
        out: list[EvidenceItem] = []
        for et in self.in_types:
            kind = {"tag_bin": "tag", "utterance": "utterance"}.get(et[0])
            if kind is None:
                continue
            src, _ = self.edges_of(c, et)
            keys = self.data[et[0]].node_key
            out += [EvidenceItem(kind, keys[int(s)], et, i) for i, s in enumerate(src.tolist())]
        return out

    def _edit_columns(self, item: EvidenceItem) -> list[tuple[int, float]]:
        """Customer feature columns and values that encode ``item`` as absent (missing tag)."""
        if item.kind != "tag":
            return []
        tag = item.key.split("=", 1)[0]
        found = self._edits.get(tag)
        if found is None:
            found = self._edits[tag] = self._tag_columns(tag)
        return found

    def _tag_columns(self, tag: str) -> list[tuple[int, float]]:
        out: list[tuple[int, float]] = []
        if tag:
            for name, value in ((f"{tag}:z", 0.0), (f"{tag}:missing", 1.0)):
                if name in self.col:
                    out.append((self.col[name], value))
            i = 0
            while f"{tag}:ple{i}" in self.col:
                out.append((self.col[f"{tag}:ple{i}"], 0.0))
                i += 1
        return out

    def score(
        self,
        c: int,
        removed: Sequence[Iterable[int]],
        evidence: Sequence[EvidenceItem] | None = None,
    ) -> tuple[Tensor, Tensor]:
        """Predict the customer under variants that remove evidence items.

        Args:
            c: Customer index.
            removed: Per variant, indices into ``evidence`` to remove (``[]`` = the full customer).
            evidence: The customer's items (default :meth:`evidence`).

        Returns:
            ``(p_dissatisfied [v, d], expected_score [v, d])``, averaged over ensemble members.
        """
        import torch

        items = self.evidence(c) if evidence is None else list(evidence)
        v, m = len(removed), len(items)
        rows_l: list[int] = []
        cols_l: list[int] = []
        for row, rem in enumerate(removed):
            idx = list(rem)
            rows_l += [row] * len(idx)
            cols_l += idx
        drop = torch.zeros(v, m, dtype=torch.bool)  # [v, m]: item removed in variant
        if rows_l:
            drop[rows_l, cols_l] = True
        return self.score_drop(c, drop, items)

    def score_drop(
        self, c: int, drop: Tensor, items: Sequence[EvidenceItem]
    ) -> tuple[Tensor, Tensor]:
        """Like :meth:`score`, with the variants as a matrix: ``drop[r, i]`` removes item ``i``.

        Args:
            c: Customer index.
            drop: ``[v, len(items)]`` booleans.
            items: The customer's evidence items (:meth:`evidence`).
        """
        import torch

        v = int(drop.shape[0])
        touched = drop.any(0).nonzero().flatten().tolist()
        masks: dict[EdgeType, Tensor] = {}
        for et in self.in_types:
            masks[et] = torch.ones(v, int(self.edges_of(c, et)[0].numel()))
        x = self.x[c].unsqueeze(0).repeat(v, 1)
        removed_per_rel: dict[str, Tensor] = {}
        by_type: dict[EdgeType, tuple[list[int], list[int]]] = {}
        e_rows: list[int] = []  # (touched item, feature column) pairs its removal sets
        e_cols: list[int] = []
        e_vals: list[float] = []
        for k, i in enumerate(touched):
            it = items[i]
            pos = by_type.setdefault(it.edge_type, ([], []))
            pos[0].append(i)
            pos[1].append(it.position)
            for j, value in self._edit_columns(it):
                e_rows.append(k)
                e_cols.append(j)
                e_vals.append(value)
        for et, (idx, positions) in by_type.items():
            keep = ~drop[:, idx]  # [v, k]
            masks[et][:, positions] = keep.float()
            rel = et[1].removeprefix("rev_")
            removed_per_rel[rel] = removed_per_rel.get(rel, torch.zeros(v)) + (~keep).sum(1)
        if e_rows:  # [v, f]: a feature is edited in a variant that removes any item setting it
            edit = torch.zeros(len(touched), x.shape[1])
            edit[e_rows, e_cols] = 1.0
            fill = torch.zeros(x.shape[1], dtype=x.dtype)
            fill[e_cols] = torch.tensor(e_vals, dtype=x.dtype)
            hit = (drop[:, touched].float() @ edit) > 0
            x = torch.where(hit, fill, x)
        for rel, count in removed_per_rel.items():  # degree features follow the removed edges
            deg = self.col.get(f"deg:{rel}")
            if deg is not None:
                x[:, deg] = torch.log1p((torch.expm1(x[:, deg]) - count).clamp_min(0.0))
        with torch.no_grad():
            return self.score_masks(c, x, masks)

    def score_masks(
        self, c: int, x: Tensor, masks: Mapping[EdgeType, Tensor]
    ) -> tuple[Tensor, Tensor]:
        """Like :meth:`score` with explicit soft masks (differentiable for sparse architectures).

        Args:
            c: Customer index.
            x: Customer features per variant, ``[v, f]``.
            masks: Per incoming edge type, edge weights in [0, 1] per variant, ``[v, e_t]``.

        Returns:
            ``(p_dissatisfied [v, d], expected_score [v, d])``.
        """
        import torch

        from needgraph.reasoning.heads import class_probs, p_dissatisfied

        p_all, s_all = [], []
        levels = torch.arange(1, 6, dtype=torch.float32)
        for out in self.head_outputs(c, x, masks):
            probs = class_probs(out.cum)
            p_all.append(p_dissatisfied(probs, out.dis))
            s_all.append((probs * levels).sum(-1))
        return torch.stack(p_all).mean(0), torch.stack(s_all).mean(0)

    def head_outputs(
        self, c: int, x: Tensor, masks: Mapping[EdgeType, Tensor] | None = None
    ) -> list[HeadOutput]:
        """Each member's head outputs for variants of customer ``c``'s star.

        Args:
            c: Customer index.
            x: Customer features per variant, ``[v, f]``.
            masks: Per incoming edge type, edge weights in [0, 1] per variant, ``[v, e_t]``
                (``None``: every edge kept).

        Returns:
            One :class:`~needgraph.reasoning.heads.HeadOutput` per member, each ``[v, ...]``.
        """
        import torch

        from needgraph.reasoning.heads import split_head
        from needgraph.reasoning.model import GraphInputs

        v = x.shape[0]
        outputs: list[HeadOutput] = []
        srcs = {et: self.edges_of(c, et) for et in self.in_types}
        weights = {  # [v, k]
            et: w.unsqueeze(0) * (masks[et] if masks is not None else torch.ones(v, 1))
            for et, (_, w) in srcs.items()
        }
        sizes = {et: int(src.numel()) for et, (src, _) in srcs.items()}
        # Under autograd (GNNExplainer's soft masks) every use of the adjacency gets its own
        # sparse tensors: torch keeps native memory when one sparse tensor whose values require
        # gradients feeds several products (~40 KB per backward pass; it grew a Q2 run by 25-30
        # MB per GNNExplainer explanation). Without gradients one adjacency per normalisation
        # serves every member and layer.
        grad = any(w.requires_grad for w in weights.values())
        built: dict[bool, tuple[dict[EdgeType, Tensor], dict[EdgeType, Tensor]]] = {}

        def adjacency(norm: bool) -> tuple[dict[EdgeType, Tensor], dict[EdgeType, Tensor]]:
            """``(sparse adjacency per type, what the convolutions take)`` of the star."""
            found = None if grad else built.get(norm)
            if found is None:
                sparse = {et: self._sparse(weights[et], sizes[et], v, norm) for et in srcs}
                # an empty adjacency still matters: convolutions add their bias
                conv_edges = sparse if self.sparse else {
                    et: self._adjacency(weights[et], sizes[et], v, norm) for et in srcs
                }
                found = built[norm] = (sparse, conv_edges)
            return found

        kernels = [None] * len(self.states) if grad else self.kernels()
        for member, layers, kernel in zip(self.model.members, self.states, kernels, strict=True):
            if kernel is not None:  # the same computation in a few dozen calls
                labels = None if self.labels is None else self.labels[c].unsqueeze(0)
                sources = [srcs[et][0] for et in self.in_types]
                raw = kernel.forward(x, sources, weights, layers, labels)
                outputs.append(split_head(raw, member.n_domains))
                continue
            n = {t: (v if t == "customer" else 0) for t in member.node_types}
            star = GraphInputs({"customer": x}, {}, {}, n)
            if self.labels is not None:  # label trick: the customer's shown labels, unchanged
                star.labels = self.labels[c].unsqueeze(0).expand(v, -1)
            h0c = member.encode(star)["customer"]
            norm = _normalise(member)
            star.customer_adj, edges = adjacency(norm)
            # wide part (newer models): the customer's own input plus its neighbours' inputs
            h0_sub = {"customer": h0c} | {et[0]: layers[0][et[0]][srcs[et][0]] for et in srcs}
            wide = member.wide(h0_sub, star) if hasattr(member, "wide") else h0c
            if member.config.arch == "mlp":
                if not hasattr(member, "wide"):
                    for et, adj in star.customer_adj.items():
                        wide = wide + torch.sparse.mm(adj, h0_sub[et[0]])
                raw = member.head(torch.cat([member.mlp(wide), wide], dim=-1))
            else:
                cur = h0c
                for lay in range(len(member.convs)):
                    h_sub: dict[str, Tensor] = {"customer": cur}
                    for et, (src, _) in srcs.items():
                        h_sub[et[0]] = layers[lay][et[0]][src]
                    if grad:
                        edges = adjacency(norm)[1]
                    cur = _layer(member, lay, h_sub, edges, only="customer")["customer"]
                raw = member.head(torch.cat([cur, wide], dim=-1))
            outputs.append(split_head(raw, member.n_domains))
        return outputs

    def kernels(self) -> list[SageStarKernel | None]:
        """Per member, its closed-form star pass, or ``None`` where the modules must run.

        Built on first use (:mod:`needgraph.reasoning.star_kernel`); ``use_kernels = False``
        keeps every member on its modules (tests and benchmarks compare the two).
        """
        if not self.use_kernels:
            return [None] * len(self.states)
        if self._kernels is None:
            from needgraph.reasoning.star_kernel import SageStarKernel, StarKernelUnsupportedError

            built: list[SageStarKernel | None] = []
            for member in self.model.members:
                try:
                    built.append(SageStarKernel(member, self.in_types))
                except StarKernelUnsupportedError:
                    built.append(None)
            self._kernels = built
        return self._kernels

    def _adjacency(self, ww: Tensor, k: int, v: int, normalise: bool) -> Tensor:
        """Star adjacency ``[v, k]``: variant ``r`` <- source ``j`` with weight ``ww[r, j]``.

        Mirrors :meth:`SatisfactionGNN.prepare`: weighted mean or sum, as the model aggregates
        messages into customers.
        """
        import torch

        rows = torch.arange(v).repeat_interleave(k)
        cols = torch.arange(k).repeat(v)
        if not self.sparse:
            keep = ww.reshape(-1) > 0
            return torch.stack([cols[keep], rows[keep]])
        return self._sparse(ww, k, v, normalise)

    @staticmethod
    def _sparse(ww: Tensor, k: int, v: int, normalise: bool) -> Tensor:
        """Sparse ``[v, k]`` weighted-mean (or sum) adjacency of the star (differentiable)."""
        import torch

        vals = (ww / ww.sum(1, keepdim=True).clamp_min(1e-12) if normalise else ww).reshape(-1)
        if not vals.requires_grad:  # dense rows in order: build the CSR directly (no coalesce)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", UserWarning)
                return torch.sparse_csr_tensor(
                    torch.arange(v + 1) * k,
                    torch.arange(k).repeat(v),
                    vals,
                    (v, k),
                    check_invariants=False,
                )
        rows = torch.arange(v).repeat_interleave(k)
        cols = torch.arange(k).repeat(v)
        with warnings.catch_warnings():  # "sparse CSR support is in beta", as in the model
            warnings.simplefilter("ignore", UserWarning)
            coo = torch.sparse_coo_tensor(
                torch.stack([rows, cols]), vals, (v, k), check_invariants=False
            )
            return coo.coalesce().to_sparse_csr()


def _normalise(member: SatisfactionGNN) -> bool:
    """Whether the member mean-normalises messages into customers (else sums them)."""
    return getattr(member.config, "customer_aggr", "mean") == "mean"
