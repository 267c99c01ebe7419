"""Attribution of one customer's evidence with the model, and the causes it points to.

:func:`attribute` runs the two-point Shapley attribution on the customer's star (see
:mod:`needgraph.reasoning.explain` for the method); :func:`cause_scores` adds the ontology paths,
explaining away and the confidence of each cause (:func:`rank_items`, which also ranks any other
explainer's item weights the same way). :class:`Context` caches what every explanation of one
(model, graph, store) reuses.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from needgraph.reasoning.causes import (
    MIN_CONFIDENCE,
    RELATIVE_CONFIDENCE,
    ConceptIndex,
    ScoredCauses,
    score_causes,
)
from needgraph.reasoning.star import EvidenceItem, StarScorer

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.reasoning.train import SatisfactionModel

#: Default floor on a reported cause's attribution weight (log-odds of dissatisfaction); the
#: threshold that matters is the confidence (``MIN_CONFIDENCE``).
MIN_WEIGHT = 0.05


@dataclass(eq=False)
class Context:
    """Everything reused across explanations of one (model, graph, store).

    Attributes:
        scorer: The star scorer (holds the model and the graph).
        concepts: The ontology paths and link confidences of the graph.
        store: The store it was built for (held, so the cache's key ids stay unique).
    """

    scorer: StarScorer
    concepts: ConceptIndex
    store: Any = None


#: Recently built contexts (bounded; cleared when full).
_CACHE: dict[tuple[int, int, int], Context] = {}
#: Every context some owner still holds (a :class:`~needgraph.reasoning.runtime.Reasoner`):
#: never evicted while held, so a live reasoner's context (with its event updates and cached
#: layer states) is never rebuilt behind its back.
_HELD: weakref.WeakValueDictionary[tuple[int, int, int], Context] = (
    weakref.WeakValueDictionary())


def context(store: GraphStore | None, model: SatisfactionModel, data: HeteroData) -> Context:
    """The cached :class:`Context` of ``(store, model, data)`` (built on first use).

    An entry holds its store, model and graph, so their ids cannot be reused while it is cached.
    """
    key = (id(store), id(model), id(data))
    ctx = _CACHE.get(key) or _HELD.get(key)
    if ctx is None:
        if len(_CACHE) > 8:
            _CACHE.clear()
        scorer = StarScorer(model, data)
        ctx = Context(scorer, ConceptIndex(data, store, scorer.domains), store)
        _HELD[key] = ctx
    _CACHE[key] = ctx
    return ctx


@dataclass
class CauseScores:
    """One customer's attributions and ranked causes for one domain (also used by drivers).

    Attributes:
        p: Predicted P(dissatisfied).
        score: Predicted expected 1-5 score.
        p_none: P(dissatisfied) with every candidate item removed.
        items: The customer's evidence items.
        attribution: Per item, its attribution (log-odds; 0 for items on no cause path).
        causes: Reported causes and their weights (``ranked`` as a dict).
        paths: Per reported cause, ``(item index, link weight, path weight)`` strongest first.
        ranked: Reported causes ``(cause, weight)``, most confident first.
        candidates: Indices of the items on a cause path (the attribution candidates).
        confidence: Confidence in [0, 1] of every cause with evidence (reported or not).
        score_without: Expected 1-5 score for the domain with the sorted item indices of a key
            removed, for the variants the attribution pass already ran: ``()`` (none removed)
            and each candidate alone (``(i,)``). Recommendations reuse them.
    """

    p: float
    score: float
    p_none: float
    items: list[EvidenceItem]
    attribution: list[float]
    causes: dict[str, float]
    paths: dict[str, list[tuple[int, float, float]]]
    ranked: list[tuple[str, float]] = field(default_factory=list)
    candidates: list[int] = field(default_factory=list)
    confidence: dict[str, float] = field(default_factory=dict)
    score_without: dict[tuple[int, ...], float] = field(default_factory=dict)


def attribute(
    ctx: Context, c: int, domain: str, evidence: Sequence[EvidenceItem] | None = None
) -> tuple[list[EvidenceItem], list[int], tuple[float, float, float, list[float]],
           dict[tuple[int, ...], float]]:
    """Two-point Shapley attribution of the customer's candidate evidence (one batched pass).

    Args:
        ctx: Context.
        c: Customer index.
        domain: Domain id.
        evidence: The customer's evidence items (default: :meth:`StarScorer.evidence`).

    Returns:
        ``(items, candidates, (p, score, p_none, attribution), score_without)`` for ``domain``:
        ``p`` / ``score`` the full prediction (P(dissatisfied), expected 1-5 score), ``p_none``
        P(dissatisfied) without any candidate, ``attribution`` per item (``[len(items)]``,
        log-odds, 0 for non-candidates); ``score_without`` the expected score without nothing
        (key ``()``) and without each candidate alone (key ``(i,)``).
    """
    import torch

    scorer, concepts = ctx.scorer, ctx.concepts
    d = _domain_index(scorer, domain)
    items = scorer.evidence(c) if evidence is None else list(evidence)
    cand = [i for i, it in enumerate(items) if concepts.candidates(it, domain)]
    m = len(cand)
    # full, no cause evidence, leave-one-out (m), add-one-in (m): one batched star pass
    one = torch.eye(m, dtype=torch.bool)
    drop = torch.zeros(2 + 2 * m, len(items), dtype=torch.bool)
    drop[:, cand] = torch.cat([torch.zeros(1, m, dtype=torch.bool),
                               torch.ones(1, m, dtype=torch.bool), one, ~one])
    p, s = scorer.score_drop(c, drop, items)
    lo = torch.logit(p[:, d].double(), eps=1e-6).tolist()  # log-odds: no saturation near 0 / 1
    attribution = [0.0] * len(items)
    for r, i in enumerate(cand):
        attribution[i] = 0.5 * ((lo[0] - lo[2 + r]) + (lo[2 + m + r] - lo[1]))
    scores = s[: 2 + m, d].tolist()
    without: dict[tuple[int, ...], float] = {(): scores[0]}
    without.update({(i,): scores[2 + r] for r, i in enumerate(cand)})
    return items, cand, (float(p[0, d]), float(s[0, d]), float(p[1, d]), attribution), without


def cause_scores(
    ctx: Context,
    c: int,
    domain: str,
    min_weight: float = MIN_WEIGHT,
    min_confidence: float = MIN_CONFIDENCE,
    relative: float = RELATIVE_CONFIDENCE,
    evidence: Sequence[EvidenceItem] | None = None,
) -> CauseScores:
    """Attribute the customer's evidence with the model and rank the causes it points to.

    Args:
        ctx: Context.
        c: Customer index.
        domain: Domain id (must be one of the model's domains).
        min_weight: Smallest reported cause weight (log-odds of P(dissatisfied)).
        min_confidence: Smallest reported cause confidence (in [0, 1]).
        relative: Causes below this fraction of the highest confidence are not reported.
        evidence: The customer's evidence items (default: :meth:`StarScorer.evidence`).

    Returns:
        The customer's :class:`CauseScores` for ``domain``.
    """
    items, cand, (p, score, p_none, attribution), without = attribute(ctx, c, domain, evidence)
    scored = rank_items(ctx, items, cand, attribution, domain, min_weight, min_confidence, relative)
    ranked = scored.ranked
    return CauseScores(
        p,
        score,
        p_none,
        items,
        attribution,
        dict(ranked),
        scored.paths,
        ranked,
        cand,
        scored.confidence,
        without,
    )


def rank_items(
    ctx: Context,
    items: Sequence[EvidenceItem],
    chosen: Iterable[int],
    weights: Sequence[float],
    domain: str,
    min_weight: float = MIN_WEIGHT,
    min_confidence: float = MIN_CONFIDENCE,
    relative: float = RELATIVE_CONFIDENCE,
) -> ScoredCauses:
    """Causes of the items ``chosen`` with weights ``weights`` (any explainer's), by confidence.

    Args:
        ctx: Context.
        items: The customer's evidence items.
        chosen: Indices of the items that may speak for a cause.
        weights: Per item, its weight (attribution, log-odds; or another explainer's score).
        domain: Domain id.
        min_weight: Smallest reported cause weight.
        min_confidence: Smallest reported cause confidence.
        relative: Causes below this fraction of the highest confidence are not reported.

    Returns:
        The :class:`~needgraph.reasoning.causes.ScoredCauses`.
    """
    keep = set(chosen)
    concepts = ctx.concepts
    links = [concepts.candidates(it, domain) if i in keep else {} for i, it in enumerate(items)]
    attribution = [weights[i] if i in keep else 0.0 for i in range(len(items))]
    return score_causes(
        links,
        attribution,
        lambda i, cause, link: concepts.excess(items[i], cause, domain, link),
        min_confidence=min_confidence,
        relative=relative,
        min_weight=min_weight,
    )


def _domain_index(scorer: StarScorer, domain: str) -> int:
    if domain not in scorer.domains:
        raise ValueError(f"unknown domain {domain!r}; the model predicts {scorer.domains}")
    return scorer.domains.index(domain)


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
