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
   explaining away (:func:`~needgraph.reasoning.causes.rank_causes`).
3. **Confidence** (:mod:`needgraph.reasoning.confidence`). Each cause gets a posterior-style
   confidence in [0, 1]: its items' attributable fractions (how much more often each occurs among
   customers dissatisfied with the domain than among satisfied ones, from the training labels),
   combined over independent items by noisy-OR. Causes below ``min_confidence`` (default 0.7:
   precision first, see :data:`~needgraph.reasoning.causes.MIN_CONFIDENCE`) or far below the most
   confident one are not reported; each path carries its cause's confidence. When none passes,
   the answer is the honest "no strong driver found".

:class:`StarScorer`, :class:`EvidenceItem` and :class:`ConceptIndex` are re-exported here.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from needgraph.errors import ReasoningArgumentError
from needgraph.reasoning.attribution import (
    MIN_WEIGHT,
    CauseScores,
    Context,
    attribute,
    cause_scores,
    context,
    rank_items,
    remove_and_score,
)
from needgraph.reasoning.causes import MIN_CONFIDENCE, ConceptIndex, _label_of
from needgraph.reasoning.sentences import Sentence, path_sentence, summary_sentence
from needgraph.reasoning.star import EdgeType, EvidenceItem, StarScorer, _layer, _normalise

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.reasoning.train import SatisfactionModel

__all__ = [
    "MIN_CONFIDENCE",
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
    "attribute",
    "cause_scores",
    "check_min_confidence",
    "context",
    "explain",
    "finite",
    "rank_items",
    "remove_and_score",
]


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
        confidence: The cause's confidence in [0, 1] (:mod:`needgraph.reasoning.confidence`).
    """

    cause: str
    nodes: list[str]
    relations: list[str]
    evidence: list[dict[str, Any]]
    weight: float
    share: float
    sentence: str = ""
    concepts: list[str] = field(default_factory=list)
    confidence: float = 0.0


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
        paths: Top paths, one per cause, most confident first.
        causes: Reported causes ``(cause, weight)``, most confident first (all that pass the
            thresholds, not only top-k).
        no_strong_driver: True when no cause passes the threshold.
        sentence: Headline sentence.
        attribution: Evidence key -> attribution (items on a cause path; others 0).
        ms: Time taken.
        confidence: Reported cause -> confidence in [0, 1].
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
    confidence: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def check_min_confidence(value: float) -> None:
    """Refuse a ``min_confidence`` outside [0, 1] (a confidence is a probability).

    Raises:
        ReasoningArgumentError: Naming the value and the range.
    """
    if not 0.0 <= value <= 1.0:  # also refuses NaN
        raise ReasoningArgumentError(
            f"min_confidence must lie in [0, 1], got {value!r}",
            hint="Use 0.7 (the default: reported causes right ~9 times in 10), 0.5 for more "
            "and less sure causes, or 0 to report every cause with evidence.",
            min_confidence=value,
        )


def explain(
    store: GraphStore | None,
    model: SatisfactionModel,
    data: HeteroData,
    customer: str,
    domain: str,
    k: int = 3,
    lang: str = "en",
    min_weight: float = MIN_WEIGHT,
    min_confidence: float = MIN_CONFIDENCE,
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
        min_confidence: Minimum cause confidence (in [0, 1]) to report: higher reports fewer
            causes, more of them right (``bench/q2_results.md`` has the trade-off).

    Returns:
        The :class:`Explanation` (``no_strong_driver`` when no cause passes the thresholds).

    Raises:
        ReasoningArgumentError: ``min_confidence`` outside [0, 1].
    """
    check_min_confidence(min_confidence)
    t0 = time.perf_counter()
    ctx = context(store, model, data)
    c = ctx.scorer.index.get(customer)
    if c is None:
        raise KeyError(f"unknown customer {customer!r}")
    cs = cause_scores(ctx, c, domain, min_weight=min_weight, min_confidence=min_confidence)
    ranked = cs.ranked
    total = sum(max(a, 0.0) for a in cs.attribution) or 1.0
    shown = ranked[:k]
    bins = [cs.items[i].key for cz, _ in shown for i, _, _ in cs.paths[cz]
            if cs.items[i].kind == "tag"]
    values = ctx.concepts.tag_values(customer, bins)
    paths = [_build_path(ctx, customer, domain, cz, w, total, cs, lang, values) for cz, w in shown]
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
        confidence={cz: cs.confidence[cz] for cz, _ in ranked},
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
    tag_values: dict[str, str],
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
            value = tag_values.get(it.key, "")
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
                from needgraph.reasoning.live_star import key_index

                utt = ctx.scorer.data["utterance"]
                idx = key_index(ctx).of("utterance")[it.key]  # a dict, not a scan of every key
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
        cs.confidence.get(cause, 0.0),
    )


def finite(x: float) -> float:
    """``x`` or 0.0 when not finite (for JSON)."""
    return x if math.isfinite(x) else 0.0
