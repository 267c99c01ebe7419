"""Q2: explanations and recommendations against the generator's planted truth.

Three explainers rank the same customer's evidence items (tag bins, utterances) on the same model:

* ``needgraph`` - :func:`~needgraph.reasoning.explain.cause_scores` (batched two-point Shapley
  attribution on the customer's star);
* ``random`` - as many random items as needgraph's explanation holds, drawn from the items that
  lie on some cause path (random paths of the same size);
* ``gnnexplainer`` - PyG's :class:`~torch_geometric.explain.algorithm.GNNExplainer` learning an
  object-level mask over the customer's evidence edges (the mask scales the star's edge weights,
  so it runs on exactly the same model; a probe ``MessagePassing`` layer exposes one edge per item
  to PyG's mask hooks); its top items, as many as needgraph's.

Every explainer's item weights go through the same ontology paths, the same explaining away and
the same confidence ranking (:func:`~needgraph.reasoning.explain.rank_items`), so the comparison
is one of attributions. The baselines report every cause their items point to (as needgraph at
``min_confidence`` 0, the first row of ``thresholds``): with the default bar their arbitrary items
rarely pass it, and a precision over the few cases they cover would compare nothing.

**Cases.** A case is a customer and the domain they are most dissatisfied with among the domains
where they are dissatisfied (planted latent score <= 2.5) *because of a planted cause* (at least one
planted cause affects that domain). Customers whose low score comes only from the generator's
unexplained shock, or from nothing planted for that domain, have no cause to recover and are left
out (the "no strong driver" answer is right for them; its rate is reported as ``coverage``).

**Metrics** (per method):

* ``cause_precision_at_3`` - of the explanation's top causes (at most 3; an explanation reports
  fewer when the others are weak), the share that are planted causes of the customer, averaged
  over the cases where it reports at least one cause. A broad cause above a planted specific one
  does not count (it is not the planted cause).
* ``cause_precision_at_3_over_3`` - the same hits divided by 3 always, averaged over all cases
  (punishes explanations that report fewer than 3 causes; at most ``planted / 3``).
* ``cause_recall_at_3`` - of the customer's *revealed* planted causes (those with a tag bin or an
  asserted mention on an ontology path in the graph), the share in the top 3; cases with one.
* ``coverage`` - share of cases with at least one reported cause.
* ``fidelity_plus`` = P(dis) - P(dis | the explanation's evidence removed) (higher is better);
  ``fidelity_minus`` = |P(dis) - P(dis | of the path-bearing evidence only the explanation's
  kept)| (lower is better; the customer's other tags stay). Both on the star, which reproduces
  the model's own prediction.
* ``ms_per_explanation`` - wall time of the explainer per case.

``thresholds`` (needgraph only, from the same attributions): precision, recall, coverage and
fidelity of the confidence score at several ``min_confidence`` values, beside the earlier ranking by
attribution weight (:func:`~needgraph.reasoning.causes.rank_causes`, ``relative`` 0.5) at several
``min_weight`` values - the whole precision/coverage trade-off of each score on the same cases.

``strategy_hit_at_3`` (explainer independent; cases where some eligible strategy fixes a planted
cause of the domain) is whether :func:`~needgraph.reasoning.recommend.recommend`'s top 3 holds
one; ``uplift_recommended_vs_random`` compares the mean uplift of the recommended strategies with
a random eligible one under the generator's own outcome model
(:meth:`~needgraph.ingest.generator.world.WorldModel.expected_uplift`).
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from needgraph.reasoning.causes import MIN_CONFIDENCE, rank_causes
from needgraph.reasoning.explain import (
    MIN_WEIGHT,
    CauseScores,
    Context,
    cause_scores,
    context,
    rank_items,
    remove_and_score,
)
from needgraph.reasoning.gnnexplainer import GNNEXPLAINER_EPOCHS, gnnexplainer_weights

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.ontology.core import Ontology
    from needgraph.reasoning.train import SatisfactionModel

__all__ = [
    "CONFIDENCE_GRID",
    "GNNEXPLAINER_EPOCHS",
    "METHODS",
    "WEIGHT_GRID",
    "Case",
    "gnnexplainer_weights",
    "run_q2",
]

METHODS: tuple[str, ...] = ("needgraph", "random", "gnnexplainer")
#: Planted latent score at or below which a customer counts as dissatisfied with a domain.
DISSATISFIED = 2.5
#: ``min_confidence`` values of the confidence score's precision/coverage table.
CONFIDENCE_GRID: tuple[float, ...] = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)
#: ``min_weight`` values (log-odds) of the earlier weight ranking's table (``relative`` 0.5).
WEIGHT_GRID: tuple[float, ...] = (0.05, 0.2, 0.5, 1.0)


@dataclass(frozen=True)
class Case:
    """One evaluated customer and domain.

    Attributes:
        c: Customer index in the exported graph.
        domain: Domain id.
        truth: The customer's parsed ``truth.jsonl`` line.
        planted: Planted causes of the customer that affect ``domain``.
    """

    c: int
    domain: str
    truth: dict[str, Any]
    planted: frozenset[str]


def select_cases(ctx: Context, truth_path: Path) -> list[Case]:
    """Customers dissatisfied with a domain because of a planted cause (see the module doc)."""
    index, domains = ctx.scorer.index, set(ctx.scorer.domains)
    cases: list[Case] = []
    with truth_path.open(encoding="utf-8") as fh:
        for line in fh:
            t = json.loads(line)
            c = index.get(t["customer_id"])
            if c is None or not t["causes"]:
                continue
            options: list[tuple[float, str, frozenset[str]]] = []
            for dom, sat in t["satisfaction"].items():
                hurt = frozenset(x["cause"] for x in t["causes"] if x["effects"].get(dom, 0.0) > 0)
                if dom in domains and sat <= DISSATISFIED and hurt:
                    options.append((float(sat), str(dom), hurt))
            if options:
                _, dom, planted = min(options)
                cases.append(Case(c, dom, t, planted))
    return cases


def revealed(ctx: Context, c: int, domain: str, planted: frozenset[str]) -> set[str]:
    """Planted causes with direct evidence in the graph: an indicating bin or a mention."""
    found: set[str] = set()
    for it in ctx.scorer.evidence(c):
        found |= {cz for cz, _ in ctx.concepts.links(it, domain)} & planted
    return found


def _causes_of(
    ctx: Context,
    c: int,
    domain: str,
    weights: Sequence[float],
    chosen: Sequence[int],
    min_confidence: float,
) -> tuple[list[str], set[str]]:
    """Top-3 causes and explanation evidence of an explainer that chose items ``chosen``."""
    items = ctx.scorer.evidence(c)
    found = rank_items(ctx, items, chosen, weights, domain, 0.0, min_confidence)
    top = [cz for cz, _ in found.ranked[:3]]
    return top, {items[i].key for cz in top for i, _, _ in found.paths[cz]}


def _grid_row(
    cs: CauseScores, ctx: Context, domain: str, min_confidence: float | None, mw: float
) -> tuple[list[str], set[str]]:
    """Top 3 causes and their evidence keys: confidence score, or weight ranking (``None``)."""
    if min_confidence is None:
        keep = set(cs.candidates)
        links = [
            ctx.concepts.candidates(it, domain) if i in keep else {}
            for i, it in enumerate(cs.items)
        ]
        ranked, paths = rank_causes(links, cs.attribution, min_weight=mw, relative=0.5)
    else:
        found = rank_items(ctx, cs.items, cs.candidates, cs.attribution, domain, mw, min_confidence)
        ranked, paths = found.ranked, found.paths
    top = [cz for cz, _ in ranked[:3]]
    return top, {cs.items[i].key for cz in top for i, _, _ in paths[cz]}


def _grid(rows: dict[str, list[dict[str, float]]]) -> list[dict[str, Any]]:
    """Per grid point: precision (cases with a cause), recall, coverage and fidelity means."""
    out = []
    for name, cases in rows.items():
        score, _, value = name.partition("=")
        row: dict[str, Any] = {"score": score, "threshold": float(value), "cases": len(cases)}
        for metric in ("cause_precision_at_3", "cause_recall_at_3", "coverage"):
            row[metric] = _mean([r[metric] for r in cases if metric in r])
        for metric in ("fidelity_plus", "fidelity_minus"):
            row[metric] = _mean([r[metric] for r in cases])
        out.append(row)
    return out


@dataclass
class _Tally:
    """Per-method sums (internal)."""

    precision: list[float]
    over3: list[float]
    recall: list[float]
    covered: list[float]
    fid_plus: list[float]
    fid_minus: list[float]
    ms: list[float]


def _mean(xs: Sequence[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0


def run_q2(
    store: GraphStore,
    model: SatisfactionModel,
    data: HeteroData,
    truth_folder: str | Path,
    sample: int = 200,
    seed: int = 0,
    ontology: Ontology | None = None,
    gnnexplainer_epochs: int = GNNEXPLAINER_EPOCHS,
    min_weight: float = MIN_WEIGHT,
    progress: Callable[[int, int], None] | None = None,
    min_confidence: float = MIN_CONFIDENCE,
) -> dict[str, Any]:
    """Run Q2 on a seeded sample of cases (see the module docstring for every definition).

    Args:
        store: Store the graph was exported from.
        model: Trained model.
        data: Exported graph.
        truth_folder: Generator output folder (``truth.jsonl``, ``truth_model.json``).
        sample: Cases evaluated (seeded sample; all when fewer).
        seed: Sampling seed.
        ontology: The ontology (default ``read_ontology()``).
        gnnexplainer_epochs: GNNExplainer epochs per explanation.
        min_weight: needgraph's floor on a cause's attribution weight (log-odds).
        progress: Called with ``(done, total)`` after each case.
        min_confidence: needgraph's smallest reported cause confidence.

    Returns:
        ``{"needgraph": {...}, "random": {...}, "gnnexplainer": {...},
        "uplift_recommended_vs_random": {...}, "customers": n, ...}``; each method holds
        ``cause_precision_at_3``, ``cause_precision_at_3_over_3``, ``cause_recall_at_3``,
        ``coverage``, ``strategy_hit_at_3``, ``fidelity_plus``, ``fidelity_minus`` and
        ``ms_per_explanation``; ``thresholds`` holds needgraph's precision/coverage table;
        ``min_confidence`` is needgraph's bar.
    """
    from needgraph.ingest.generator import load_world
    from needgraph.reasoning.recommend import recommend

    if ontology is None:
        from needgraph.ontology.files import read_ontology

        ontology = read_ontology()
    folder = Path(truth_folder)
    world = load_world(folder)
    ctx = context(store, model, data)
    cases = select_cases(ctx, folder / "truth.jsonl")
    population = len(cases)
    rng = random.Random(seed)
    if len(cases) > sample:
        cases = rng.sample(cases, sample)
    tally = {mt: _Tally([], [], [], [], [], [], []) for mt in METHODS}
    hits: list[float] = []
    grid: dict[str, list[dict[str, float]]] = {}
    up_rec: list[float] = []
    up_rand: list[float] = []
    for n_done, case in enumerate(cases, start=1):
        c, dom, t, planted = case.c, case.domain, case.truth, case.planted
        items = ctx.scorer.evidence(c)
        t0 = time.perf_counter()
        cs = cause_scores(ctx, c, dom, min_weight=min_weight, min_confidence=min_confidence)
        top = [cz for cz, _ in cs.ranked[:3]]
        evidence = {cs.items[i].key for cz in top for i, _, _ in cs.paths[cz]}
        ms = {"needgraph": 1000 * (time.perf_counter() - t0)}
        answers: dict[str, tuple[list[str], set[str]]] = {"needgraph": (top, evidence)}
        size = max(len(evidence), 1)
        cand = cs.candidates
        t0 = time.perf_counter()
        pick = rng.sample(cand, min(size, len(cand)))
        answers["random"] = _causes_of(ctx, c, dom, [1.0] * len(items), pick, 0.0)
        ms["random"] = 1000 * (time.perf_counter() - t0)
        t0 = time.perf_counter()
        gw = gnnexplainer_weights(ctx, c, dom, gnnexplainer_epochs)
        best = sorted(cand, key=lambda i: (-gw[i], i))[:size]
        answers["gnnexplainer"] = _causes_of(ctx, c, dom, gw, best, 0.0)
        ms["gnnexplainer"] = 1000 * (time.perf_counter() - t0)
        on_paths = {items[i].key for i in cand}
        shown = revealed(ctx, c, dom, planted)
        points: list[tuple[str, float | None, float]] = [
            (f"confidence={th}", th, min_weight) for th in CONFIDENCE_GRID
        ]
        points += [(f"weight={w}", None, w) for w in WEIGHT_GRID]
        for name, th, mw in points:
            top3, keys3 = _grid_row(cs, ctx, dom, th, mw)
            point: dict[str, float] = {"coverage": float(bool(top3))}
            if top3:
                point["cause_precision_at_3"] = len(set(top3) & planted) / len(top3)
            if shown:
                point["cause_recall_at_3"] = len(set(top3) & shown) / len(shown)
            point["fidelity_plus"] = cs.p - remove_and_score(ctx, c, dom, keys3)
            kept = remove_and_score(ctx, c, dom, keys3, keep_only=True, within=on_paths)
            point["fidelity_minus"] = abs(cs.p - kept)
            grid.setdefault(name, []).append(point)
        for mt, (causes3, keys) in answers.items():
            row = tally[mt]
            found = len(set(causes3) & planted)
            if causes3:
                row.precision.append(found / len(causes3))
            row.over3.append(found / 3.0)
            if shown:
                row.recall.append(len(set(causes3) & shown) / len(shown))
            row.covered.append(float(bool(causes3)))
            row.fid_plus.append(cs.p - remove_and_score(ctx, c, dom, keys))
            kept = remove_and_score(ctx, c, dom, keys, keep_only=True, within=on_paths)
            row.fid_minus.append(abs(cs.p - kept))
            row.ms.append(ms[mt])
        fixing = {s for x in t["causes"] if x["cause"] in planted for s in x["fixed_by"]}
        target = fixing & set(t["eligible"])
        actions = recommend(store, model, data, t["customer_id"], dom, k=3, ontology=ontology)
        if target:
            hits.append(float(bool(target & {a.strategy for a in actions})))
        if actions and t["eligible"]:
            up_rec.append(_mean([world.expected_uplift(t, a.strategy) for a in actions]))
            up_rand.append(world.expected_uplift(t, rng.choice(t["eligible"])))
        if progress is not None:
            progress(n_done, len(cases))
    out: dict[str, Any] = {
        "customers": len(cases),
        "cases_in_population": population,
        "strategy_cases": len(hits),
        "min_confidence": min_confidence,
    }
    for mt in METHODS:
        row = tally[mt]
        out[mt] = {
            "cause_precision_at_3": _mean(row.precision),
            "cause_precision_at_3_over_3": _mean(row.over3),
            "cause_recall_at_3": _mean(row.recall),
            "coverage": _mean(row.covered),
            "strategy_hit_at_3": _mean(hits),
            "fidelity_plus": _mean(row.fid_plus),
            "fidelity_minus": _mean(row.fid_minus),
            "ms_per_explanation": _mean(row.ms),
        }
    out["thresholds"] = _grid(grid)
    rec, rnd = _mean(up_rec), _mean(up_rand)
    out["uplift_recommended_vs_random"] = {
        "recommended": rec,
        "random": rnd,
        "difference": rec - rnd,
    }
    return out
