"""Recommendations: eligible strategies ranked by model uplift, calibrated by observed outcomes.

For one customer and domain: every Strategy whose ontology ``eligibility`` rule holds on the
customer's tag bins (ineligible strategies are never returned) is *applied* by removing the
evidence of the causes it resolves (directly, through a resolved broader cause, or by addressing a
need the cause blocks) and re-predicting the customer on its star
(:class:`~needgraph.reasoning.explain.StarScorer`). The model uplift is the change of the expected
1-5 score. It is calibrated by what happened to similar customers - customers with evidence for
one of this customer's top causes - who received the strategy (Offer nodes): the smoothed
acceptance rate ``(accepted + m * global rate) / (n + m)`` scales the uplift, and the mean
``satisfaction_after`` is reported with its count. The uplift is also scaled by how specifically
the strategy targets the causes (:func:`match_strength`: the cause itself, a broader cause, or a
need it blocks). ``cost_aware`` ranks by change per cost unit.

Offers and outcomes are read once per store and cached; :func:`invalidate_offers` drops the
cache (the events module calls it after recording an outcome, so rates change at once).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from needgraph.ontology.rules import evaluate_rule
from needgraph.reasoning.explain import Context, cause_scores, context
from needgraph.reasoning.sentences import action_sentence

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.ontology.core import Ontology
    from needgraph.reasoning.train import SatisfactionModel

#: Pseudo-count of the acceptance-rate prior.
PRIOR_STRENGTH = 5.0
#: Match strength of a strategy that resolves a broader cause of the customer's cause.
BROAD_MATCH = 0.6
#: Match strength of a strategy that addresses a need the customer's cause blocks.
NEED_MATCH = 0.3


@dataclass
class Action:
    """One recommended strategy.

    Attributes:
        strategy: Strategy id.
        expected_change: Calibrated expected change of the 1-5 score (acceptance x match x
            model uplift).
        model_uplift: Predicted score with the strategy applied minus without.
        acceptance_rate: Smoothed acceptance rate among similar customers.
        similar_offers: Offers of this strategy to similar customers (the count behind the rate).
        satisfaction_after: Mean follow-up score of those offers (``None`` when unobserved).
        cost: Strategy cost (``None`` when the ontology gives none).
        addresses: The customer's causes the strategy resolves (the explanation paths it addresses).
        score: Ranking score (``expected_change`` or per cost unit).
        sentence: Rendered sentence.
        match: How specifically it targets the addressed causes (:func:`match_strength`,
            averaged with the causes' weights).
    """

    strategy: str
    expected_change: float
    model_uplift: float
    acceptance_rate: float
    similar_offers: int
    satisfaction_after: float | None
    cost: float | None
    addresses: list[str] = field(default_factory=list)
    score: float = 0.0
    sentence: str = ""
    match: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


@dataclass
class _Offers:
    """Observed offers: per strategy, (customer, accepted, satisfaction_after)."""

    by_strategy: dict[str, list[tuple[str, bool, float | None]]]


_OFFERS: dict[int, _Offers] = {}


def invalidate_offers(store: GraphStore | None = None) -> None:
    """Forget cached offers and outcomes (of ``store``, or of every store when ``None``).

    :func:`needgraph.ingest.events.record_outcome` calls it after writing an outcome, so the next
    :func:`recommend` re-reads offers and its acceptance rates include the new outcome at once.
    Anything else that writes Offer nodes or RECEIVED / OF_STRATEGY relationships to a store that
    serves recommendations should call it too.
    """
    if store is None:
        _OFFERS.clear()
    else:
        _OFFERS.pop(id(store), None)


def _offers(store: GraphStore) -> _Offers:
    """Offers and outcomes per strategy (read once per store; see :func:`invalidate_offers`)."""
    cached = _OFFERS.get(id(store))
    if cached is not None:
        return cached
    strategy_of: dict[str, str] = {}
    for batch in store.iter_relationships("OF_STRATEGY"):
        for rel in batch:
            strategy_of[rel.start.key] = rel.end.key
    props: dict[str, Mapping[str, Any]] = {}
    for nb in store.iter_nodes("Offer"):
        for node in nb:
            props[node.key] = node.props
    out: dict[str, list[tuple[str, bool, float | None]]] = defaultdict(list)
    for batch in store.iter_relationships("RECEIVED"):
        for rel in batch:
            s = strategy_of.get(rel.end.key)
            if s is None:
                continue
            p = props.get(rel.end.key, {})
            after = p.get("satisfaction_after")
            val = (
                float(after)
                if isinstance(after, int | float) and not isinstance(after, bool)
                else None
            )
            out[s].append((rel.start.key, p.get("outcome") == "accepted", val))
    result = _Offers(dict(out))
    _OFFERS[id(store)] = result
    return result


def _customers_with_cause(ctx: Context, cause: str) -> set[str]:
    """Customers with evidence for ``cause`` (an indicating bin or a non-negated mention)."""
    cache = getattr(ctx, "_cause_customers", None)
    if cache is None:
        cache = _build_cause_customers(ctx)
        ctx._cause_customers = cache  # type: ignore[attr-defined]
    return cache.get(cause, set())


def _build_cause_customers(ctx: Context) -> dict[str, set[str]]:
    data = ctx.scorer.data
    ckeys = data["customer"].node_key
    out: dict[str, set[str]] = defaultdict(set)
    for et, table in (
        (("customer", "has_tag", "tag_bin"), ctx.concepts.indicates),
        (("customer", "said", "utterance"), ctx.concepts.mentions),
    ):
        if et not in data.edge_types:
            continue
        ei = data[et].edge_index
        dk = data[et[2]].node_key
        for s, d in zip(ei[0].tolist(), ei[1].tolist(), strict=True):
            for cause, _ in table.get(dk[d], []):
                out[cause].add(ckeys[s])
    return dict(out)


def customer_bins(ctx: Context, c: int) -> dict[str, str]:
    """``{tag id: bin id}`` of customer ``c`` (from its HAS_TAG bins)."""
    out: dict[str, str] = {}
    for it in ctx.scorer.evidence(c):
        if it.kind == "tag":
            tag, _, b = it.key.partition("=")
            out[tag] = b
    return out


def eligible_strategies(ontology: Ontology, bins: Mapping[str, str]) -> list[str]:
    """Strategy ids whose eligibility rule holds on ``bins`` (no rule = eligible)."""
    return [
        s.id
        for s in ontology.by_kind("Strategy")
        if not s.deprecated and evaluate_rule(s.eligibility, bins)
    ]


def match_strength(ontology: Ontology, ctx: Context, strategy: str, cause: str) -> float:
    """How specifically the strategy targets the cause: 1 direct, 0.6 broad, 0.3 need, else 0.

    A strategy that ``RESOLVES`` the cause itself is the most likely to fix it; one that resolves
    a broader cause fixes it less often, and one that only ``ADDRESSES`` a need the cause blocks
    less often still.
    """
    s = ontology[strategy]
    resolves = set(s.resolves)
    if cause in resolves:
        return 1.0
    if resolves & set(ctx.concepts.ancestors(cause)[1:]):
        return BROAD_MATCH
    if set(s.addresses) & set(ctx.concepts.needs_of(cause)):
        return NEED_MATCH
    return 0.0


def strategy_causes(
    ontology: Ontology, ctx: Context, strategy: str, causes: list[str]
) -> list[str]:
    """Which of ``causes`` the strategy resolves: directly, via a broader cause, or via a need."""
    return [cz for cz in causes if match_strength(ontology, ctx, strategy, cz) > 0]


def recommend(
    store: GraphStore,
    model: SatisfactionModel,
    data: HeteroData,
    customer: str,
    domain: str,
    k: int = 3,
    ontology: Ontology | None = None,
    cost_aware: bool = False,
    lang: str = "en",
) -> list[Action]:
    """Top-k eligible strategies for the customer, ranked by calibrated expected change.

    Args:
        store: The graph store (offers and outcomes, labels).
        model: Trained model.
        data: Exported graph.
        customer: Customer key.
        domain: Domain id.
        k: Actions to return.
        ontology: The ontology (default: :func:`~needgraph.ontology.files.read_ontology`).
        cost_aware: Rank by expected change per cost unit.
        lang: Sentence language.

    Returns:
        At most ``k`` :class:`Action`, best first; only eligible strategies.
    """
    if ontology is None:
        from needgraph.ontology.files import read_ontology

        ontology = read_ontology()
    ctx = context(store, model, data)
    c = ctx.scorer.index.get(customer)
    if c is None:
        raise KeyError(f"unknown customer {customer!r}")
    eligible = eligible_strategies(ontology, customer_bins(ctx, c))
    if not eligible:
        return []
    cs = cause_scores(ctx, c, domain)
    d = ctx.scorer.domains.index(domain)
    causes = [cz for cz, _ in cs.ranked]
    similar: set[str] = set()
    for cz in causes[:3]:
        similar |= _customers_with_cause(ctx, cz)
    similar.discard(customer)
    offers = _offers(store)
    plans: list[tuple[str, list[str], list[int]]] = []
    for sid in eligible:
        fixed = strategy_causes(ontology, ctx, sid, causes)
        items = sorted({i for cz in fixed for i, _, _ in cs.paths.get(cz, [])})
        plans.append((sid, fixed, items))
    _, score = ctx.scorer.score(c, [[]] + [items for _, _, items in plans], cs.items)
    base = float(score[0, d])
    actions: list[Action] = []
    weight = dict(cs.ranked)
    for row, (sid, fixed, _) in enumerate(plans, start=1):
        uplift = float(score[row, d]) - base
        total = sum(weight[cz] for cz in fixed)
        match = (
            sum(weight[cz] * match_strength(ontology, ctx, sid, cz) for cz in fixed) / total
            if total > 0
            else 0.0
        )
        rows = offers.by_strategy.get(sid, [])
        global_rate = (sum(a for _, a, _ in rows) + 1.0) / (len(rows) + 4.0)
        sim = [r for r in rows if r[0] in similar]
        accepted = sum(a for _, a, _ in sim)
        rate = (accepted + PRIOR_STRENGTH * global_rate) / (len(sim) + PRIOR_STRENGTH)
        afters = [x for _, a, x in sim if x is not None]
        cost = ontology[sid].cost
        change = rate * match * uplift
        rank = change / cost if cost_aware and cost else change
        labels = ctx.concepts.labels([sid, *fixed])
        sent = action_sentence(labels, lang, sid, fixed, change, rate, len(sim))
        actions.append(
            Action(
                strategy=sid,
                expected_change=change,
                model_uplift=uplift,
                acceptance_rate=rate,
                similar_offers=len(sim),
                satisfaction_after=sum(afters) / len(afters) if afters else None,
                cost=cost,
                addresses=fixed,
                score=rank,
                sentence=sent.text,
                match=match,
            )
        )
    actions.sort(key=lambda a: (-a.score, -a.acceptance_rate, a.strategy))
    return actions[:k]
