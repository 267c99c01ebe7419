"""Path explanations: why is a customer predicted dissatisfied with a domain?

The model is explained by the model itself, in two steps.

1. **Attribution** (:mod:`needgraph.reasoning.star`). The trained GNN is re-run for the customer on
   its star with evidence items removed, all variants in one batch. Candidates are the items on an
   ontology path to a cause that affects the domain (the rest of the customer stays as it is).
   Each candidate's attribution is the mean of its leave-one-out drop (all evidence minus the
   item) and its add-one-in gain (no cause evidence plus the item) - a two-point Shapley estimate
   - on the log-odds of P(dissatisfied), so it does not vanish when the probability saturates.
2. **Paths** (:mod:`needgraph.reasoning.causes`). Attributions flow along the ontology's paths,
   ``customer -HAS_TAG-> TagBin -INDICATES-> Cause -BLOCKS-> Need`` (times the INDICATES weight)
   and ``customer -SAID-> Utterance -MENTIONS-> Cause`` (times the mention's confidence; negated
   or resolved mentions are ``mentions_negated`` in the export and never used), restricted to
   causes that ``AFFECT`` the asked domain (themselves or through a broader cause). A broad cause's
   link also reaches its specific causes; each item's attribution is shared among its causes by
   explaining away (:func:`~needgraph.reasoning.causes.rank_causes`), and causes far below the
   strongest one, or below ``min_weight``, are not reported. When none passes, the answer is the
   honest "no strong driver found".

:class:`StarScorer`, :class:`EvidenceItem` and :class:`ConceptIndex` are re-exported here.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from needgraph.reasoning.causes import RELATIVE, ConceptIndex, _label_of, rank_causes
from needgraph.reasoning.sentences import Sentence, path_sentence, summary_sentence
from needgraph.reasoning.star import EdgeType, EvidenceItem, StarScorer, _layer, _normalise

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.reasoning.train import SatisfactionModel

__all__ = [
    "MIN_WEIGHT",
    "CauseScores",
    "ConceptIndex",
    "Context",
    "EdgeType",
    "EvidenceItem",
    "Explanation",
    "Path",
    "StarScorer",
    "_label_of",
    "_layer",
    "_normalise",
    "cause_scores",
    "context",
    "explain",
    "finite",
    "remove_and_score",
]

#: Default threshold on a cause's path weight (drop of the log-odds of dissatisfaction).
MIN_WEIGHT = 0.2


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
    """One customer's attributions and ranked causes for one domain (also used by drivers).

    Attributes:
        p: Predicted P(dissatisfied).
        score: Predicted expected 1-5 score.
        p_none: P(dissatisfied) with every candidate item removed.
        items: The customer's evidence items.
        attribution: Per item, its attribution (log-odds; 0 for items on no cause path).
        causes: Reported causes and their weights (``ranked`` as a dict).
        paths: Per reported cause, ``(item index, link weight, path weight)`` strongest first.
        ranked: Reported causes ``(cause, weight)``, strongest first.
        candidates: Indices of the items on a cause path (the attribution candidates).
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


def attribute(
    ctx: Context, c: int, domain: str
) -> tuple[list[EvidenceItem], list[int], tuple[float, float, float, list[float]]]:
    """Two-point Shapley attribution of the customer's candidate evidence (one batched pass).

    Args:
        ctx: Context.
        c: Customer index.
        domain: Domain id.

    Returns:
        ``(items, candidates, (p, score, p_none, attribution))`` for ``domain``: ``p`` /
        ``score`` the full prediction (P(dissatisfied), expected 1-5 score), ``p_none``
        P(dissatisfied) without any candidate, ``attribution`` per item (``[len(items)]``,
        log-odds, 0 for non-candidates).
    """
    import torch

    scorer, concepts = ctx.scorer, ctx.concepts
    d = _domain_index(scorer, domain)
    items = scorer.evidence(c)
    cand = [i for i, it in enumerate(items) if concepts.candidates(it, domain)]
    m = len(cand)
    # full, no cause evidence, leave-one-out (m), add-one-in (m): one batched star pass
    variants: list[list[int]] = [[], cand] + [[i] for i in cand]
    variants += [[j for j in cand if j != i] for i in cand]
    p, s = scorer.score(c, variants, items)
    lo = torch.logit(p[:, d].double(), eps=1e-6).tolist()  # log-odds: no saturation near 0 / 1
    attribution = [0.0] * len(items)
    for r, i in enumerate(cand):
        attribution[i] = 0.5 * ((lo[0] - lo[2 + r]) + (lo[2 + m + r] - lo[1]))
    return items, cand, (float(p[0, d]), float(s[0, d]), float(p[1, d]), attribution)


def cause_scores(
    ctx: Context,
    c: int,
    domain: str,
    min_weight: float = MIN_WEIGHT,
    relative: float = RELATIVE,
) -> CauseScores:
    """Attribute the customer's evidence with the model and rank the causes it points to.

    Args:
        ctx: Context.
        c: Customer index.
        domain: Domain id (must be one of the model's domains).
        min_weight: Smallest reported cause weight (log-odds of P(dissatisfied)).
        relative: Causes below this fraction of the strongest are not reported.

    Returns:
        The customer's :class:`CauseScores` for ``domain``.
    """
    items, cand, (p, score, p_none, attribution) = attribute(ctx, c, domain)
    links = [ctx.concepts.candidates(it, domain) if i in cand else {} for i, it in enumerate(items)]
    ranked, paths = rank_causes(links, attribution, min_weight=min_weight, relative=relative)
    return CauseScores(p, score, p_none, items, attribution, dict(ranked), paths, ranked, cand)


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
    cs = cause_scores(ctx, c, domain, min_weight=min_weight)
    ranked = cs.ranked
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
