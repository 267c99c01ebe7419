"""The heterogeneous GNN that predicts per customer and domain a 1-5 score and P(dissatisfied).

Every node type is first embedded into ``hidden`` dimensions: customers and utterances through a
linear map of their dense features, concept nodes (tag bins, tags, causes, needs, strategies,
domains) through a learnable embedding of their id. ``layers`` rounds of heterogeneous message
passing follow; each round is ``h_t <- h_t + dropout(act(norm(root_t(h_t) + sum_r conv_r(h))))``
with one convolution per relation ``r`` ending at ``t`` (``norm`` is off by default: it cost
accuracy on IBM Telco). The customer's final state is concatenated with its "wide" state - its
input state plus the summed input states of its own tag bins, strategies and utterances, a linear
map of its one-hot inputs that keeps them close to the head - and decoded by the heads of
:mod:`needgraph.reasoning.heads`. Messages into customers are summed (a customer's tags act like
a multi-hot vector); messages into every other type are averaged (a tag bin has many customers).

Architectures (``ModelConfig.arch``): ``sage`` (GraphSAGE, mean aggregation), ``gat`` (GATv2),
``rgcn`` (R-GCN with basis decomposition, mean-normalised), ``hgt`` (Heterogeneous Graph
Transformer) and ``mlp`` (ablation: no message passing - the customer sees only the mean input
embedding of its own tag bins, strategies and utterances, i.e. a tabular MLP over one-hot tags).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import torch
from torch import Tensor, nn

from needgraph.reasoning.features import VOCAB_TYPES, EdgeType, FeatureSchema
from needgraph.reasoning.heads import HEAD_WIDTH, LEVELS
from needgraph.reasoning.layers import RGCNLayer, mean_adjacency

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

__all__ = ["ARCHS", "GraphInputs", "ModelConfig", "RGCNLayer", "SatisfactionGNN", "mean_adjacency"]

Arch = Literal["sage", "gat", "rgcn", "hgt", "mlp"]
ARCHS: tuple[Arch, ...] = ("sage", "gat", "rgcn", "hgt", "mlp")
#: Architectures that aggregate with a weighted-mean sparse adjacency (fast on CPU); the others
#: need per-edge computations (attention) and take ``edge_index``.
SPARSE_ARCHS: frozenset[str] = frozenset({"sage", "rgcn", "mlp"})


@dataclass
class GraphInputs:
    """What :meth:`SatisfactionGNN.forward` consumes, prepared once per (sub)graph.

    Attributes:
        x: Dense features per node type, ``[n_t, in_dims[t]]``.
        node_id: Embedding indices per vocabulary type, ``[n_t]``.
        edges: Per edge type either ``edge_index`` ``[2, e]`` (attention architectures) or the
            row-normalised weighted adjacency ``A[dst, src]`` as a sparse CSR ``[n_dst, n_src]``.
        num_nodes: Node count per type.
        customer_adj: Per relation into customers, the adjacency of the wide path (sparse CSR
            ``[n_customer, n_src]``, summed or averaged per ``customer_aggr``).
        labels: Label-trick inputs of the customers, ``[n_customer, d * 6]`` (or ``None``).
    """

    x: dict[str, Tensor]
    node_id: dict[str, Tensor]
    edges: dict[EdgeType, Tensor]
    num_nodes: dict[str, int]
    customer_adj: dict[EdgeType, Tensor] = field(default_factory=dict)
    labels: Tensor | None = None


@dataclass(frozen=True)
class ModelConfig:
    """Architecture hyper-parameters.

    Args:
        arch: Message-passing operator (see module docstring).
        hidden: Width of every node state.
        layers: Message-passing rounds (2 lets customers exchange signal through shared bins).
        dropout: Dropout on node states and in the head.
        heads: Attention heads (``gat``, ``hgt``).
        bases: Basis matrices shared by all relations (``rgcn``; 0 = one matrix per relation).
        norm: Layer-normalise each round's update.
        customer_aggr: Aggregation of messages into customers for ``sage``, ``rgcn`` and ``mlp``:
            ``sum`` treats a customer's own tag bins, offers and utterances like a multi-hot
            vector (each keeps full weight however many a customer has); ``mean`` averages them.
            Messages into every other node type (e.g. a tag bin's customers) are averaged.
        label_trick: Feed the known labels of other training customers as customer inputs
            (Wang & Leskovec's label trick / UniMP): two layers then carry the scores of
            customers who share a tag bin or an offer. A customer never sees its own label.
    """

    arch: Arch = "sage"
    hidden: int = 64
    layers: int = 2
    dropout: float = 0.3
    heads: int = 2
    bases: int = 4
    norm: bool = False
    customer_aggr: Literal["sum", "mean"] = "sum"
    label_trick: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Plain dictionary (for logs and artifacts)."""
        return asdict(self)


class SatisfactionGNN(nn.Module):
    """Heterogeneous GNN with ordinal, regression and dissatisfied heads per domain.

    Args:
        schema: Feature schema (node types, relations, vocabularies, domains).
        in_dims: Dense input width per node type that has ``x`` (e.g. ``{"customer": 127}``).
        config: Architecture hyper-parameters.
    """

    def __init__(self, schema: FeatureSchema, in_dims: dict[str, int], config: ModelConfig) -> None:
        super().__init__()
        if config.arch not in ARCHS:
            raise ValueError(f"unknown architecture {config.arch!r}; use one of {ARCHS}")
        self.config = config
        self.n_domains = len(schema.domains)
        self.node_types = schema.node_types
        self.edge_types = [et for et in schema.edge_types if et[0] in self.node_types]
        d = config.hidden
        self.lin_in = nn.ModuleDict({t: nn.Linear(k, d) for t, k in in_dims.items() if k > 0})
        embeddings = {
            t: nn.Embedding(schema.vocab_size(t), d) for t in self.node_types if t in VOCAB_TYPES
        }
        for emb in embeddings.values():
            nn.init.normal_(emb.weight, std=0.1)
        self.emb = nn.ModuleDict(embeddings)
        self.convs = nn.ModuleList()
        self.roots = nn.ModuleList()
        self.norms = nn.ModuleList()
        if config.arch != "mlp":
            for _ in range(config.layers):
                self.convs.append(self._conv())
                self.roots.append(nn.ModuleDict({t: nn.Linear(d, d) for t in self.node_types}))
                norms = {
                    t: nn.LayerNorm(d) if config.norm else nn.Identity() for t in self.node_types
                }
                self.norms.append(nn.ModuleDict(norms))
        else:
            self.mlp = nn.Sequential(
                *[
                    m
                    for _ in range(config.layers)
                    for m in (nn.Linear(d, d), nn.ReLU(), nn.Dropout(config.dropout))
                ]
            )
        self.head = nn.Sequential(
            nn.Linear(2 * d, d),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(d, self.n_domains * HEAD_WIDTH),
        )
        self.drop = nn.Dropout(config.dropout)
        self.lin_label = (
            nn.Linear(self.n_domains * (LEVELS + 1), d) if config.label_trick else None
        )

    def _conv(self) -> nn.Module:
        from torch_geometric.nn import GATv2Conv, HeteroConv, HGTConv, SAGEConv

        cfg, d = self.config, self.config.hidden
        if cfg.arch == "rgcn":
            return RGCNLayer(self.edge_types, d, cfg.bases)
        if cfg.arch == "hgt":
            hgt: nn.Module = HGTConv(d, d, (self.node_types, self.edge_types), heads=cfg.heads)
            return hgt
        convs: dict[EdgeType, nn.Module] = {}
        for et in self.edge_types:
            if cfg.arch == "sage":
                # the adjacency carries the normalisation, so 'sum' of A @ h is the mean (or sum)
                convs[et] = SAGEConv((d, d), d, aggr="sum", root_weight=False)
            else:
                convs[et] = GATv2Conv(
                    (d, d), d // cfg.heads, heads=cfg.heads, add_self_loops=False
                )
        hetero: nn.Module = HeteroConv(convs, aggr="sum")
        return hetero

    def prepare(self, data: HeteroData) -> GraphInputs:
        """Collect the inputs of :meth:`forward` from a full graph or a sampled subgraph.

        Features are read as ``float32`` and edge indices as ``int64`` (no copy when they already
        are; a graph shrunk by :func:`~needgraph.reasoning.sampler.compact_graph` is widened here).
        """
        x = {
            t: data[t].x.float()
            for t in self.node_types
            if t in data.node_types and "x" in data[t]
        }
        ids = {
            t: data[t].node_id
            for t in self.node_types
            if t in data.node_types and "node_id" in data[t]
        }
        n = {t: int(data[t].num_nodes) if t in data.node_types else 0 for t in self.node_types}
        edges: dict[EdgeType, Tensor] = {}
        customer_adj: dict[EdgeType, Tensor] = {}
        for et in self.edge_types:
            if et not in data.edge_types:
                continue
            ei = data[et].edge_index.long()
            weight = data[et].get("edge_weight")
            if weight is not None and weight.numel() != ei.shape[1]:
                weight = None
            normalise = et[2] != "customer" or self.config.customer_aggr == "mean"
            adj = None
            if self.config.arch in SPARSE_ARCHS or et[2] == "customer":
                adj = mean_adjacency(ei, weight, n[et[0]], n[et[2]], normalise)
            if et[2] == "customer" and adj is not None:
                customer_adj[et] = adj
            if self.config.arch == "mlp":
                continue
            edges[et] = adj if self.config.arch in SPARSE_ARCHS and adj is not None else ei
        return GraphInputs(x, ids, edges, n, customer_adj)

    def encode(self, inputs: GraphInputs) -> dict[str, Tensor]:
        """Input states ``{type: [n_t, hidden]}`` from dense features and id embeddings."""
        h: dict[str, Tensor] = {}
        for t in self.node_types:
            state = torch.zeros(inputs.num_nodes[t], self.config.hidden)
            if t in self.lin_in and t in inputs.x:
                state = state + self.lin_in[t](inputs.x[t])
            if t in self.emb and t in inputs.node_id:
                state = state + self.emb[t](inputs.node_id[t])
            if t == "customer" and self.lin_label is not None and inputs.labels is not None:
                state = state + self.lin_label(inputs.labels)
            h[t] = state
        return h

    def forward(self, inputs: GraphInputs) -> Tensor:
        """Raw head outputs for every customer of the (sub)graph.

        Args:
            inputs: From :meth:`prepare`.

        Returns:
            ``[n_customer, n_domains * HEAD_WIDTH]``; see :func:`heads.split_head`.
        """
        h0 = self.encode(inputs)
        h = {t: self.drop(v) for t, v in h0.items()}
        edges = inputs.edges
        wide = self.wide(h, inputs)
        if self.config.arch == "mlp":
            return self.head(torch.cat([self.mlp(wide), wide], dim=-1))  # type: ignore[no-any-return]
        for conv, roots, norms in zip(self.convs, self.roots, self.norms, strict=True):
            assert isinstance(roots, nn.ModuleDict) and isinstance(norms, nn.ModuleDict)
            agg = conv(h, edges)
            new: dict[str, Tensor] = {}
            for t in self.node_types:
                update = roots[t](h[t])
                if agg.get(t) is not None:
                    update = update + agg[t]
                new[t] = h[t] + self.drop(torch.relu(norms[t](update)))
            h = new
        return self.head(torch.cat([h["customer"], wide], dim=-1))  # type: ignore[no-any-return]

    def wide(self, h: dict[str, Tensor], inputs: GraphInputs) -> Tensor:
        """The customer's "wide" input state, ``[n_customer, hidden]``.

        Its own input state plus the (summed or averaged) input states of its direct neighbours
        - tag bins, strategies, utterances - i.e. a linear map of its one-hot tags, offers and
        texts. It feeds the head directly (wide & deep) and is the whole input of ``mlp``.
        """
        cust = h["customer"]
        for et, adj in inputs.customer_adj.items():
            if adj.shape[1] > 0 and et[0] in h:
                cust = cust + torch.sparse.mm(adj, h[et[0]])
        return cust

    def forward_data(self, data: HeteroData) -> Tensor:
        """:meth:`forward` on a ``HeteroData`` (prepares the inputs on every call)."""
        return self(self.prepare(data))  # type: ignore[no-any-return]
