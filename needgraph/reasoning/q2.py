"""Q2: explanations and recommendations against the generator's planted truth.

Three explainers rank the same customer's evidence items (tag bins, utterances) on the same model:

* ``needgraph`` - :func:`~needgraph.reasoning.explain.cause_scores` (batched leave-one-out on the
  customer's star, propagated along ontology paths);
* ``random`` - a random subset of the same size as needgraph's top-3 paths' evidence, drawn from
  the items that lie on some cause path (random paths);
* ``gnnexplainer`` - PyG's :class:`~torch_geometric.explain.algorithm.GNNExplainer` learning an
  object-level mask over the customer's evidence edges (the mask scales the star's edge weights,
  so it runs on exactly the same model; a probe ``MessagePassing`` layer exposes one edge per item
  to PyG's mask hooks); candidates are the same path-bearing items.

Each explainer's top evidence is mapped to causes along the same ontology paths for
``cause_precision_at_3`` (planted causes among the top 3, divided by 3); ``fidelity_plus`` =
P(dis) - P(dis | the explanation's evidence removed) (higher is better) and ``fidelity_minus`` =
|P(dis) - P(dis | of the path-bearing evidence only the explanation's kept)| (lower is better; the
customer's other tags stay, so the probe does not leave the data distribution), both on the star,
which reproduces the model's own prediction.
``strategy_hit_at_3`` and ``uplift_recommended_vs_random`` use :func:`recommend` (explainer
independent) and the generator's :meth:`WorldModel.expected_uplift`.
"""

from __future__ import annotations

import json
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needgraph.reasoning.explain import (
    Context,
    EvidenceItem,
    cause_scores,
    context,
    remove_and_score,
)

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.ontology.core import Ontology
    from needgraph.reasoning.train import SatisfactionModel

METHODS: tuple[str, ...] = ("needgraph", "random", "gnnexplainer")


def _causes_from_items(
    ctx: Context, items: list[EvidenceItem], weights: list[float], domain: str
) -> list[str]:
    """Rank causes by the summed weight of the given items along ontology links."""
    score: dict[str, float] = defaultdict(float)
    for it, w in zip(items, weights, strict=True):
        links = (
            ctx.concepts.indicates.get(it.key, [])
            if it.kind == "tag"
            else ctx.concepts.mentions.get(it.key, [])
        )
        for cz, lw in links:
            if ctx.concepts.affects_domain(cz, domain):
                score[cz] += max(w, 0.0) * lw
    return [cz for cz, v in sorted(score.items(), key=lambda x: (-x[1], x[0])) if v > 0]


def gnnexplainer_weights(ctx: Context, c: int, domain: str, epochs: int = 30) -> list[float]:
    """PyG GNNExplainer's learned mask over the customer's evidence items (one per item).

    Args:
        ctx: Context (sparse architectures only: the mask must be differentiable).
        c: Customer index.
        domain: Domain id.
        epochs: GNNExplainer epochs.

    Returns:
        Mask values ``[len(evidence)]`` in (0, 1) for items on a cause path (the candidates, as
        for needgraph), 0 for the others.
    """
    import torch
    from torch_geometric.explain import Explainer
    from torch_geometric.explain.algorithm import GNNExplainer
    from torch_geometric.nn import MessagePassing

    scorer = ctx.scorer
    every = scorer.evidence(c)
    cand = [i for i, it in enumerate(every) if ctx.concepts.links(it, domain)]
    items = [every[i] for i in cand]
    d = scorer.domains.index(domain)
    m = len(items)
    if m == 0:
        return [0.0] * len(every)

    class _Probe(MessagePassing):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(aggr="add")

        # annotations must resolve in this module's globals (PyG inspects them): Any
        def forward(self, x: Any, edge_index: Any) -> Any:
            return self.propagate(edge_index, x=x)

        def message(self, x_j: Any) -> Any:
            return torch.ones_like(x_j[:, :1])

    class _Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.probe = _Probe()

        def forward(self, x: Any, edge_index: Any) -> Any:
            kept = self.probe(x, edge_index)[1:, 0]  # [m]: the mask of each item's edge
            masks = {
                et: torch.ones(1, int(scorer.edges_of(c, et)[0].numel())) for et in scorer.in_types
            }
            for i, it in enumerate(items):
                row = masks[it.edge_type].clone()
                row[0, it.position] = kept[i]
                masks[it.edge_type] = row
            p, _ = scorer.score_masks(c, scorer.x[c].unsqueeze(0), masks)
            return p[:, d : d + 1]

    x = torch.ones(m + 1, 1)
    edge_index = torch.stack([torch.zeros(m, dtype=torch.long), torch.arange(1, m + 1)])
    explainer = Explainer(
        model=_Wrapper(),
        algorithm=GNNExplainer(epochs=epochs),
        explanation_type="model",
        edge_mask_type="object",
        model_config={"mode": "regression", "task_level": "graph", "return_type": "raw"},
    )
    exp = explainer(x, edge_index)
    out = [0.0] * len(every)
    for i, v in zip(cand, exp.edge_mask.tolist(), strict=True):
        out[i] = float(v)
    return out


def run_q2(
    store: GraphStore,
    model: SatisfactionModel,
    data: HeteroData,
    truth_folder: str | Path,
    sample: int = 200,
    seed: int = 0,
    ontology: Ontology | None = None,
    gnnexplainer_epochs: int = 30,
) -> dict[str, Any]:
    """Run Q2 on a sample of dissatisfied customers.

    Args:
        store: Store the graph was exported from.
        model: Trained model.
        data: Exported graph.
        truth_folder: Generator output folder (``truth.jsonl``, ``truth_model.json``).
        sample: Dissatisfied customers evaluated (seeded sample).
        seed: Sampling seed.
        ontology: The ontology (default ``read_ontology()``).
        gnnexplainer_epochs: GNNExplainer epochs per explanation.

    Returns:
        ``{"needgraph": {...}, "random": {...}, "gnnexplainer": {...},
        "uplift_recommended_vs_random": {...}, "customers": n}``; each method holds
        ``cause_precision_at_3``, ``strategy_hit_at_3``, ``fidelity_plus``, ``fidelity_minus``,
        ``ms_per_explanation``.
    """
    from needgraph.ingest.generator import load_world
    from needgraph.reasoning.recommend import recommend

    if ontology is None:
        from needgraph.ontology.files import read_ontology

        ontology = read_ontology()
    folder = Path(truth_folder)
    world = load_world(folder)
    ctx = context(store, model, data)
    index = ctx.scorer.index
    cases: list[tuple[int, str, dict[str, Any]]] = []
    with (folder / "truth.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            t = json.loads(line)
            c = index.get(t["customer_id"])
            if c is None or not t["causes"]:
                continue
            sat = {dm: s for dm, s in t["satisfaction"].items() if dm in ctx.scorer.domains}
            if not sat:
                continue
            dom, low = min(sat.items(), key=lambda x: x[1])
            if low <= 2.5:
                cases.append((c, dom, t))
    rng = random.Random(seed)
    if len(cases) > sample:
        cases = rng.sample(cases, sample)
    acc: dict[str, dict[str, list[float]]] = {mt: defaultdict(list) for mt in METHODS}
    hits: list[float] = []
    up_rec: list[float] = []
    up_rand: list[float] = []
    for c, dom, t in cases:
        planted = {x["cause"] for x in t["causes"]}
        items = ctx.scorer.evidence(c)
        # needgraph
        t0 = time.perf_counter()
        cs = cause_scores(ctx, c, dom)
        ranked = [cz for cz, _ in sorted(cs.causes.items(), key=lambda x: (-x[1], x[0]))][:3]
        ev = {cs.items[i].key for cz in ranked for i, _, _ in cs.paths.get(cz, [])}
        acc["needgraph"]["ms"].append(1000 * (time.perf_counter() - t0))
        size = max(len(ev), 1)
        per_method: dict[str, tuple[list[str], set[str]]] = {"needgraph": (ranked, ev)}
        # random paths of the same size
        t0 = time.perf_counter()
        cand = [i for i, it in enumerate(items) if ctx.concepts.links(it, dom)]
        pick = rng.sample(cand, min(size, len(cand)))
        rw = [1.0 if i in pick else 0.0 for i in range(len(items))]
        per_method["random"] = (
            _causes_from_items(ctx, items, rw, dom)[:3],
            {items[i].key for i in pick},
        )
        acc["random"]["ms"].append(1000 * (time.perf_counter() - t0))
        # GNNExplainer
        t0 = time.perf_counter()
        gw = gnnexplainer_weights(ctx, c, dom, gnnexplainer_epochs) if items else []
        top = sorted(cand, key=lambda i: -gw[i])[:size]
        gsel = [gw[i] if i in top else 0.0 for i in range(len(items))]
        per_method["gnnexplainer"] = (
            _causes_from_items(ctx, items, gsel, dom)[:3],
            {items[i].key for i in top},
        )
        acc["gnnexplainer"]["ms"].append(1000 * (time.perf_counter() - t0))
        on_paths = {items[i].key for i in cand}
        for mt, (causes3, keys) in per_method.items():
            acc[mt]["precision"].append(len(set(causes3) & planted) / 3.0)
            acc[mt]["fid_plus"].append(cs.p - remove_and_score(ctx, c, dom, keys))
            kept = remove_and_score(ctx, c, dom, keys, keep_only=True, within=on_paths)
            acc[mt]["fid_minus"].append(abs(cs.p - kept))
        # recommendations
        target = {s for x in t["causes"] for s in x["fixed_by"]} & set(t["eligible"])
        actions = recommend(store, model, data, t["customer_id"], dom, k=3, ontology=ontology)
        hits.append(float(bool(target & {a.strategy for a in actions})))
        if actions and t["eligible"]:
            up_rec.append(sum(world.expected_uplift(t, a.strategy) for a in actions) / len(actions))
            up_rand.append(world.expected_uplift(t, rng.choice(t["eligible"])))
    hit = sum(hits) / len(hits) if hits else 0.0
    out: dict[str, Any] = {"customers": len(cases)}
    for mt in METHODS:
        a = acc[mt]
        n = max(len(a["precision"]), 1)
        out[mt] = {
            "cause_precision_at_3": sum(a["precision"]) / n,
            "strategy_hit_at_3": hit,
            "fidelity_plus": sum(a["fid_plus"]) / n,
            "fidelity_minus": sum(a["fid_minus"]) / n,
            "ms_per_explanation": sum(a["ms"]) / max(len(a["ms"]), 1),
        }
    rec = sum(up_rec) / len(up_rec) if up_rec else 0.0
    rnd = sum(up_rand) / len(up_rand) if up_rand else 0.0
    out["uplift_recommended_vs_random"] = {
        "recommended": rec,
        "random": rnd,
        "difference": rec - rnd,
    }
    return out
