"""Path explanations: why is a customer predicted dissatisfied with a domain?

The model is explained by the model itself. :class:`StarScorer` re-runs the trained GNN for one
customer on its *star*: the customer's own input features and its incoming edges (tag bins,
utterances, offers), with every neighbour's layer states taken from one cached full-graph pass.
Many variants of the star (the customer with some evidence removed) run as one batch, so
leave-one-out attribution of all evidence items, the "all evidence removed" baseline and the
fidelity probes cost one small forward pass (milliseconds) instead of one full-graph pass each.
Removing a tag bin drops its ``has_tag`` edge and sets the tag's numeric features to "missing";
removing an utterance drops its ``said`` edge; degree features follow. (Neighbour states still
hold the customer's own original contribution - a 1/degree second-order effect - which is the
approximation of the star.)

Only items on an ontology path to a cause that affects the domain are candidates (the rest of the
customer stays as it is). Each candidate's attribution is the mean of its leave-one-out drop (all
evidence minus the item) and its add-one-in gain (no cause evidence plus the item) - a two-point
Shapley estimate - on the log-odds of P(dissatisfied), so it does not vanish when the probability
saturates. It flows along the ontology's paths: ``customer -HAS_TAG-> TagBin -INDICATES-> Cause
-BLOCKS-> Need`` (times the INDICATES weight) and ``customer -SAID-> Utterance -MENTIONS-> Cause``
(times the mention's confidence; negated or resolved mentions are ``mentions_negated`` in the
export and never used), restricted to causes that ``AFFECT`` the asked domain (themselves or
through a broader cause). Causes are ranked by their summed path weight; below ``min_weight`` the
answer is the honest "no strong driver found".
"""

from __future__ import annotations

import math
import time
import warnings
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from needgraph.graph.records import NodeRef
from needgraph.reasoning.sentences import Labels, Sentence, path_sentence, summary_sentence

if TYPE_CHECKING:
    from torch import Tensor
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.reasoning.model import SatisfactionGNN
    from needgraph.reasoning.train import SatisfactionModel

EdgeType = tuple[str, str, str]
#: Default threshold on a cause's path weight (drop of the log-odds of dissatisfaction).
MIN_WEIGHT = 0.05


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


@dataclass
class Path:
    """One explanation path from the customer to a cause (and the needs it blocks).

    Attributes:
        cause: Cause id.
        nodes: Node keys along the path (customer, evidence, cause, domain, needs).
        relations: Relationship types between them.
        evidence: ``{"kind", "key", "tag", "bin", "value", "text", "confidence"}`` per item.
        weight: Attribution carried by the path (log-odds of P(dissatisfied)).
        share: ``weight`` over the total positive attribution of the prediction.
        sentence: Rendered sentence.
        concepts: Concept ids the sentence names.
    """

    cause: str
    nodes: list[str]
    relations: list[str]
    evidence: list[dict[str, Any]]
    weight: float
    share: float
    sentence: str = ""
    concepts: list[str] = field(default_factory=list)


@dataclass
class Explanation:
    """Why one customer is predicted (dis)satisfied with one domain.

    Attributes:
        customer: Customer key.
        domain: Domain id.
        lang: Sentence language.
        p_dissatisfied: Predicted P(score <= 2).
        expected_score: Predicted expected 1-5 score.
        p_without_evidence: P(dissatisfied) with all cause evidence (items on a path) removed.
        paths: Top paths, one per cause, strongest first.
        causes: Ranked causes ``(cause, weight)`` (all above the threshold, not only top-k).
        no_strong_driver: True when no cause passes the threshold.
        sentence: Headline sentence.
        attribution: Evidence key -> attribution (items on a cause path; others 0).
        ms: Time taken.
    """

    customer: str
    domain: str
    lang: str
    p_dissatisfied: float
    expected_score: float
    p_without_evidence: float
    paths: list[Path]
    causes: list[tuple[str, float]]
    no_strong_driver: bool
    sentence: str
    attribution: dict[str, float]
    ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


# --------------------------------------------------------------------------- model side
def _layer(
    model: SatisfactionGNN, layer: int, h: dict[str, Tensor], edges: Any, only: str | None = None
) -> dict[str, Tensor]:
    """One message-passing round exactly as :meth:`SatisfactionGNN.forward` runs it (eval mode)."""
    import torch
    from torch import nn

    agg = model.convs[layer](h, edges)
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

    # -- evidence ------------------------------------------------------------------------
    def edges_of(self, c: int, et: EdgeType) -> tuple[Tensor, Tensor]:
        """Source indices ``[e]`` and weights ``[e]`` of the customer's incoming ``et`` edges."""
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
        out: list[tuple[int, float]] = []
        if item.kind == "tag":
            tag = item.key.split("=", 1)[0]
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
        drop = torch.zeros(v, m, dtype=torch.bool)  # [v, m]: item removed in variant
        for row, rem in enumerate(removed):
            idx = list(rem)
            if idx:
                drop[row, idx] = True
        masks: dict[EdgeType, Tensor] = {}
        for et in self.in_types:
            masks[et] = torch.ones(v, int(self.edges_of(c, et)[0].numel()))
        x = self.x[c].unsqueeze(0).repeat(v, 1)
        removed_per_rel: dict[str, Tensor] = {}
        for i, it in enumerate(items):
            col = drop[:, i]
            if not bool(col.any()):
                continue
            masks[it.edge_type][col, it.position] = 0.0
            for j, value in self._edit_columns(it):
                x[col, j] = value
            rel = it.edge_type[1].removeprefix("rev_")
            removed_per_rel[rel] = removed_per_rel.get(rel, torch.zeros(v)) + col.float()
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

        from needgraph.reasoning.heads import class_probs, p_dissatisfied, split_head
        from needgraph.reasoning.model import GraphInputs

        v = x.shape[0]
        p_all, s_all = [], []
        levels = torch.arange(1, 6, dtype=torch.float32)
        for member, layers in zip(self.model.members, self.states, strict=True):
            n = {t: (v if t == "customer" else 0) for t in member.node_types}
            star = GraphInputs({"customer": x}, {}, {}, n)
            if self.labels is not None:  # label trick: the customer's shown labels, unchanged
                star.labels = self.labels[c].unsqueeze(0).expand(v, -1)
            h0c = member.encode(star)["customer"]
            norm = _normalise(member)
            srcs = {et: self.edges_of(c, et) for et in self.in_types}
            weights = {et: masks[et] * w.unsqueeze(0) for et, (_, w) in srcs.items()}  # [v, k]
            # wide part (newer models): the customer's own input plus its neighbours' inputs
            h0_sub = {"customer": h0c} | {et[0]: layers[0][et[0]][srcs[et][0]] for et in srcs}
            star.customer_adj = {
                et: self._sparse(weights[et], int(srcs[et][0].numel()), v, norm) for et in srcs
            }
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
                    edges: dict[EdgeType, Tensor] = {}
                    for et, (src, _) in srcs.items():
                        h_sub[et[0]] = layers[lay][et[0]][src]
                        # an empty adjacency still matters: convolutions add their bias
                        edges[et] = self._adjacency(weights[et], int(src.numel()), v, norm)
                    cur = _layer(member, lay, h_sub, edges, only="customer")["customer"]
                raw = member.head(torch.cat([cur, wide], dim=-1))
            out = split_head(raw, member.n_domains)
            probs = class_probs(out.cum)
            p_all.append(p_dissatisfied(probs, out.dis))
            s_all.append((probs * levels).sum(-1))
        return torch.stack(p_all).mean(0), torch.stack(s_all).mean(0)

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

        rows = torch.arange(v).repeat_interleave(k)
        cols = torch.arange(k).repeat(v)
        vals = (ww / ww.sum(1, keepdim=True).clamp_min(1e-12) if normalise else ww).reshape(-1)
        with warnings.catch_warnings():  # "sparse CSR support is in beta", as in the model
            warnings.simplefilter("ignore", UserWarning)
            coo = torch.sparse_coo_tensor(
                torch.stack([rows, cols]), vals, (v, k), check_invariants=False
            )
            return coo.coalesce().to_sparse_csr()


def _normalise(member: SatisfactionGNN) -> bool:
    """Whether the member mean-normalises messages into customers (else sums them)."""
    return getattr(member.config, "customer_aggr", "mean") == "mean"


# --------------------------------------------------------------------------- concept side
class ConceptIndex:
    """Concept relations read from the exported graph plus labels and mention spans from the store.

    Args:
        data: Exported graph.
        store: The store (labels, utterance mention spans, raw tag values).
    """

    def __init__(self, data: HeteroData, store: GraphStore | None) -> None:
        self.store = store
        self.indicates: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.mentions: dict[str, list[tuple[str, float]]] = defaultdict(list)
        self.affects: dict[str, set[str]] = defaultdict(set)
        self.blocks: dict[str, list[str]] = defaultdict(list)
        self.broader: dict[str, list[str]] = defaultdict(list)
        targets: dict[EdgeType, dict[str, list[tuple[str, float]]]] = {
            ("tag_bin", "indicates", "cause"): self.indicates,
            ("utterance", "mentions", "cause"): self.mentions,
        }
        for et, table in targets.items():
            if et in data.edge_types:
                ei, w = data[et].edge_index, data[et].edge_weight
                sk, dk = data[et[0]].node_key, data[et[2]].node_key
                for s, d, x in zip(ei[0].tolist(), ei[1].tolist(), w.tolist(), strict=True):
                    table[sk[s]].append((dk[d], float(x)))
        lists: tuple[tuple[EdgeType, dict[str, list[str]] | None], ...] = (
            (("cause", "affects", "domain"), None),
            (("cause", "blocks", "need"), self.blocks),
            (("cause", "broader", "cause"), self.broader),
        )
        for et, rel in lists:
            if et not in data.edge_types:
                continue
            ei = data[et].edge_index
            sk, dk = data[et[0]].node_key, data[et[2]].node_key
            for s, d in zip(ei[0].tolist(), ei[1].tolist(), strict=True):
                if rel is None:
                    self.affects[sk[s]].add(dk[d])
                elif dk[d] not in rel[sk[s]]:
                    rel[sk[s]].append(dk[d])
        self.affected_domains = {d for ds in self.affects.values() for d in ds}
        self._labels: dict[str, dict[str, str]] = {}

    def ancestors(self, cause: str) -> list[str]:
        """The cause and its broader causes (breadth first)."""
        seen, todo = [cause], [cause]
        while todo:
            for b in self.broader.get(todo.pop(0), []):
                if b not in seen:
                    seen.append(b)
                    todo.append(b)
        return seen

    def affects_domain(self, cause: str, domain: str) -> bool:
        """Cause (or a broader cause) AFFECTS ``domain``; any cause when no cause affects it."""
        if domain not in self.affected_domains:
            return True
        return any(domain in self.affects.get(a, set()) for a in self.ancestors(cause))

    def links(self, item: EvidenceItem, domain: str) -> list[tuple[str, float]]:
        """``(cause, link weight)`` of an evidence item towards causes that affect ``domain``."""
        table = self.indicates if item.kind == "tag" else self.mentions
        return [(cz, w) for cz, w in table.get(item.key, []) if self.affects_domain(cz, domain)]

    def needs_of(self, cause: str) -> list[str]:
        """Needs the cause (or a broader cause) blocks."""
        out: list[str] = []
        for a in self.ancestors(cause):
            out += [n for n in self.blocks.get(a, []) if n not in out]
        return out

    def labels(self, ids: Iterable[str]) -> Labels:
        """zh/en labels of concept ids (cached; read from the store's nodes)."""
        missing = [i for i in ids if i not in self._labels]
        if missing and self.store is not None:
            by_label: dict[str, list[str]] = defaultdict(list)
            for i in missing:
                by_label[_label_of(i)].append(i)
            for lab, keys in by_label.items():
                try:
                    found = self.store.get_nodes(lab, keys)
                except Exception:
                    found = {}
                for k, node in found.items():
                    self._labels[k] = {
                        "zh": str(node.props.get("label_zh") or ""),
                        "en": str(node.props.get("label_en") or ""),
                    }
        for i in missing:
            self._labels.setdefault(i, {"zh": "", "en": ""})
        return self._labels

    def utterance_spans(self, key: str) -> dict[str, dict[str, Any]]:
        """Cause id -> ``{"evidence", "confidence", "negated", "resolved"}`` from MENTIONS props."""
        if self.store is None:
            return {}
        try:
            sub = self.store.neighbourhood(
                NodeRef("Utterance", key), 1, rel_types=["MENTIONS"], direction="out"
            )
        except Exception:
            return {}
        return {r.end.key: dict(r.props) for r in sub.relationships if r.end.label == "Cause"}

    def tag_value(self, customer: str, bin_key: str) -> str:
        """Raw HAS_TAG value of the customer for a bin (``""`` when unknown)."""
        if self.store is None:
            return ""
        try:
            sub = self.store.neighbourhood(
                NodeRef("Customer", customer), 1, rel_types=["HAS_TAG"], direction="out"
            )
        except Exception:
            return ""
        for r in sub.relationships:
            if r.end.key == bin_key:
                return str(r.props.get("value", ""))
        return ""


def _label_of(concept_id: str) -> str:
    if "=" in concept_id:
        return "TagBin"
    return {
        "cause": "Cause",
        "need": "Need",
        "domain": "Domain",
        "strategy": "Strategy",
        "tag": "Tag",
        "segment": "Segment",
    }.get(concept_id.split(".", 1)[0], "Cause")


@dataclass
class Context:
    """Everything reused across explanations of one (model, graph, store)."""

    scorer: StarScorer
    concepts: ConceptIndex


_CACHE: dict[tuple[int, int, int], Context] = {}


def context(store: GraphStore | None, model: SatisfactionModel, data: HeteroData) -> Context:
    """The cached :class:`Context` of ``(store, model, data)`` (built on first use)."""
    key = (id(store), id(model), id(data))
    ctx = _CACHE.get(key)
    if ctx is None:
        if len(_CACHE) > 8:
            _CACHE.clear()
        ctx = Context(StarScorer(model, data), ConceptIndex(data, store))
        _CACHE[key] = ctx
    return ctx


# --------------------------------------------------------------------------- explanation
@dataclass
class CauseScores:
    """Per-cause aggregation of one customer's attributions (internal, also used by drivers)."""

    p: float
    score: float
    p_none: float
    items: list[EvidenceItem]
    attribution: list[float]
    causes: dict[str, float]
    paths: dict[str, list[tuple[int, float, float]]]  # cause -> (item, link weight, path weight)


def cause_scores(ctx: Context, c: int, domain: str) -> CauseScores:
    """Leave-one-out attribution of every evidence item, propagated to causes along ontology paths.

    Args:
        ctx: Context.
        c: Customer index.
        domain: Domain id (must be one of the model's domains).

    Returns:
        The customer's :class:`CauseScores` for ``domain``.
    """
    import torch

    scorer, concepts = ctx.scorer, ctx.concepts
    d = _domain_index(scorer, domain)
    items = scorer.evidence(c)
    cand = [i for i, it in enumerate(items) if concepts.links(it, domain)]
    m = len(cand)
    # full, no cause evidence, leave-one-out (m), add-one-in (m): one batched star pass
    variants: list[list[int]] = [[], cand] + [[i] for i in cand]
    variants += [[j for j in cand if j != i] for i in cand]
    p, s = scorer.score(c, variants, items)
    pd = p[:, d].tolist()
    lo = torch.logit(p[:, d].double(), eps=1e-6).tolist()  # log-odds: no saturation near 0 / 1
    attribution = [0.0] * len(items)
    for r, i in enumerate(cand):
        attribution[i] = 0.5 * ((lo[0] - lo[2 + r]) + (lo[2 + m + r] - lo[1]))
    causes: dict[str, float] = defaultdict(float)
    paths: dict[str, list[tuple[int, float, float]]] = defaultdict(list)
    for i in cand:
        a = attribution[i]
        if a <= 0:
            continue
        for cause, w in concepts.links(items[i], domain):
            pw = a * max(min(w, 1.0), 0.0)
            causes[cause] += pw
            paths[cause].append((i, w, pw))
    return CauseScores(pd[0], float(s[0, d]), pd[1], items, attribution, dict(causes), dict(paths))


def _domain_index(scorer: StarScorer, domain: str) -> int:
    if domain not in scorer.domains:
        raise ValueError(f"unknown domain {domain!r}; the model predicts {scorer.domains}")
    return scorer.domains.index(domain)


def explain(
    store: GraphStore | None,
    model: SatisfactionModel,
    data: HeteroData,
    customer: str,
    domain: str,
    k: int = 3,
    lang: str = "en",
    min_weight: float = MIN_WEIGHT,
) -> Explanation:
    """Top-k cause paths that carry the customer's predicted dissatisfaction with ``domain``.

    Args:
        store: The graph store (labels, text spans, raw tag values; ``None`` = ids only).
        model: Trained model.
        data: Exported graph the model predicts.
        customer: Customer key.
        domain: Domain id.
        k: Paths to return.
        lang: ``zh`` or ``en``.
        min_weight: Minimum cause weight (log-odds of P(dissatisfied)) to report.

    Returns:
        The :class:`Explanation` (``no_strong_driver`` when nothing passes ``min_weight``).
    """
    t0 = time.perf_counter()
    ctx = context(store, model, data)
    c = ctx.scorer.index.get(customer)
    if c is None:
        raise KeyError(f"unknown customer {customer!r}")
    cs = cause_scores(ctx, c, domain)
    ranked = sorted(
        ((cz, w) for cz, w in cs.causes.items() if w >= min_weight), key=lambda x: (-x[1], x[0])
    )
    total = sum(max(a, 0.0) for a in cs.attribution) or 1.0
    paths = [_build_path(ctx, customer, domain, cz, w, total, cs, lang) for cz, w in ranked[:k]]
    labels = ctx.concepts.labels([domain, *[cz for cz, _ in ranked[:k]]])
    head: Sentence = summary_sentence(
        labels, lang, customer, domain, cs.p, [cz for cz, _ in ranked[:k]]
    )
    return Explanation(
        customer=customer,
        domain=domain,
        lang=lang,
        p_dissatisfied=cs.p,
        expected_score=cs.score,
        p_without_evidence=cs.p_none,
        paths=paths,
        causes=ranked,
        no_strong_driver=not ranked,
        sentence=head.text,
        attribution={it.key: a for it, a in zip(cs.items, cs.attribution, strict=True) if a},
        ms=1000 * (time.perf_counter() - t0),
    )


def _build_path(
    ctx: Context,
    customer: str,
    domain: str,
    cause: str,
    weight: float,
    total: float,
    cs: CauseScores,
    lang: str,
) -> Path:
    concepts = ctx.concepts
    needs = concepts.needs_of(cause)
    evidence: list[dict[str, Any]] = []
    tag_ev: list[tuple[str, str, str]] = []
    text_ev: list[str] = []
    nodes, relations = [customer], []
    for i, link, _ in sorted(cs.paths[cause], key=lambda x: -x[2]):
        it = cs.items[i]
        if it.kind == "tag":
            tag, _, _b = it.key.partition("=")
            value = concepts.tag_value(customer, it.key)
            evidence.append(
                {
                    "kind": "tag",
                    "key": it.key,
                    "tag": tag,
                    "bin": it.key,
                    "value": value,
                    "confidence": link,
                }
            )
            tag_ev.append((tag, it.key, value))
            nodes.append(it.key)
            relations += ["HAS_TAG", "INDICATES"]
        else:
            span = concepts.utterance_spans(it.key).get(cause, {})
            text = str(span.get("evidence") or "")
            if not text:
                utt = ctx.scorer.data["utterance"]
                idx = list(utt.node_key).index(it.key)
                text = str(utt.text[idx])[:80] if "text" in utt else ""
            evidence.append({"kind": "utterance", "key": it.key, "text": text, "confidence": link})
            text_ev.append(text)
            nodes.append(it.key)
            relations += ["SAID", "MENTIONS"]
    nodes += [cause, domain, *needs]
    relations += ["AFFECTS"] + ["BLOCKS"] * len(needs)
    labels = concepts.labels(
        [cause, domain, *needs, *[t for t, _, _ in tag_ev], *[b for _, b, _ in tag_ev]]
    )
    sent = path_sentence(labels, lang, cause, domain, needs, tag_ev, text_ev)
    return Path(
        cause,
        nodes,
        relations,
        evidence,
        weight,
        min(weight / total, 1.0),
        sent.text,
        list(sent.concepts),
    )


def remove_and_score(
    ctx: Context,
    c: int,
    domain: str,
    keys: set[str],
    keep_only: bool = False,
    within: set[str] | None = None,
) -> float:
    """P(dissatisfied) of customer ``c`` after removing the evidence items in ``keys``.

    Args:
        ctx: Context.
        c: Customer index.
        domain: Domain id.
        keys: Evidence keys (tag-bin / utterance keys).
        keep_only: Remove every item *not* in ``keys`` instead.
        within: With ``keep_only``, only items in ``within`` are candidates for removal (e.g. the
            items on cause paths); ``None`` = all the customer's evidence.
    """
    items = ctx.scorer.evidence(c)
    if keep_only:
        rem = [
            i
            for i, it in enumerate(items)
            if it.key not in keys and (within is None or it.key in within)
        ]
    else:
        rem = [i for i, it in enumerate(items) if it.key in keys]
    p, _ = ctx.scorer.score(c, [rem], items)
    return float(p[0, _domain_index(ctx.scorer, domain)])


def finite(x: float) -> float:
    """``x`` or 0.0 when not finite (for JSON)."""
    return x if math.isfinite(x) else 0.0
