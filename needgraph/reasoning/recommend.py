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

import weakref
from collections import defaultdict, deque
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from needgraph.ontology.rules import evaluate_rule
from needgraph.reasoning.causes import ACTION_MIN_CONFIDENCE
from needgraph.reasoning.explain import Context, cause_scores, context
from needgraph.reasoning.sentences import action_sentence

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.ontology.core import Ontology
    from needgraph.reasoning.star import EvidenceItem
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
    """Observed offers: per strategy, (customer, accepted, satisfaction_after), and tallies.

    Attributes:
        by_strategy: Strategy -> its offers.
        global_rate: Strategy -> smoothed acceptance rate over all its offers.
        own: ``(strategy, customer)`` -> that customer's offers of the strategy.
        strategies_of: Customer -> the strategies it was offered.
        tallies: ``(strategy, causes)`` -> :class:`_Tally` of the offers to customers with
            evidence for any of ``causes`` (filled on use; valid for ``cause_version``).
        cause_version: The :func:`cause_version` of the context the tallies were counted on.
    """

    by_strategy: dict[str, list[tuple[str, bool, float | None]]]
    global_rate: dict[str, float] = field(default_factory=dict)
    own: dict[tuple[str, str], list[tuple[str, bool, float | None]]] = field(
        default_factory=dict)
    strategies_of: dict[str, set[str]] = field(default_factory=dict)
    tallies: dict[tuple[str, tuple[str, ...]], _Tally] = field(default_factory=dict)
    cause_version: tuple[int, int] = (0, 0)


@dataclass
class _Tally:
    """Offers of one strategy to one group of customers: count, accepted, follow-up scores."""

    n: int = 0
    accepted: int = 0
    after_sum: float = 0.0
    after_n: int = 0

    def add(self, accepted: bool, after: float | None) -> None:
        """Count one offer."""
        self.n += 1
        self.accepted += int(accepted)
        if after is not None:
            self.after_sum += after
            self.after_n += 1


_OFFERS: weakref.WeakKeyDictionary[GraphStore, _Offers] = weakref.WeakKeyDictionary()
"""Offers per open store object; an entry goes with its store (never served to a new store that
happens to reuse a freed one's ``id``)."""


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
        _OFFERS.pop(store, None)


def _offers(store: GraphStore) -> _Offers:
    """Offers and outcomes per strategy (read once per store; see :func:`invalidate_offers`)."""
    cached = _OFFERS.get(store)
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
    for sid, rows in result.by_strategy.items():
        result.global_rate[sid] = (sum(a for _, a, _ in rows) + 1.0) / (len(rows) + 4.0)
        for row in rows:
            result.own.setdefault((sid, row[0]), []).append(row)
            result.strategies_of.setdefault(row[0], set()).add(sid)
    _OFFERS[store] = result
    return result


def cause_version(ctx: Context) -> tuple[int, int]:
    """Identifies the context's "customers with a cause" sets: changes whenever they do.

    :func:`note_cause_change` bumps it after an event changed a customer's causes; cached
    tallies of similar customers' offers that the change can have moved are recounted after
    that.
    """
    return id(ctx), int(getattr(ctx, "_cause_version", 0))


_CHANGES_KEPT = 4096
"""Cause changes remembered per context; tallies older than that are all recounted."""


def note_cause_change(ctx: Context, customer: str) -> None:
    """Record that ``customer``'s causes changed (a live update of the context's sets).

    Only the cached tallies of the strategies ``customer`` was offered are recounted on the
    next use: a tally counts offers, so a customer without offers moves none. Before, every
    event that changed a customer's causes dropped every tally, and the next recommendation
    (in every worker) recounted them (``bench/RESULTS.md``).
    """
    changes: deque[tuple[int, str]] | None = getattr(ctx, "_cause_changes", None)
    if changes is None:
        changes = ctx._cause_changes = deque(maxlen=_CHANGES_KEPT)  # type: ignore[attr-defined]
    version = int(getattr(ctx, "_cause_version", 0)) + 1
    ctx._cause_version = version  # type: ignore[attr-defined]
    changes.append((version, customer))


def _changed_since(ctx: Context, version: int) -> list[str] | None:
    """Customers whose causes changed after ``version`` (``None``: not all remembered)."""
    changes: deque[tuple[int, str]] = getattr(ctx, "_cause_changes", deque())
    if int(getattr(ctx, "_cause_version", 0)) == version:
        return []
    if not changes or changes[0][0] > version + 1:
        return None
    return [customer for v, customer in changes if v > version]


def _forget_tallies(ctx: Context, offers: _Offers, version: tuple[int, int]) -> None:
    """Drop the cached tallies that the cause changes since they were counted can have moved."""
    old_ctx, old_version = offers.cause_version
    changed = _changed_since(ctx, old_version) if old_ctx == version[0] else None
    if changed is None:
        offers.tallies.clear()
    else:
        moved = {s for who in changed for s in offers.strategies_of.get(who, ())}
        for key in [key for key in offers.tallies if key[0] in moved]:
            del offers.tallies[key]
    offers.cause_version = version


def similar_tally(ctx: Context, offers: _Offers, strategy: str, causes: tuple[str, ...],
                  customer: str) -> _Tally:
    """Offers of ``strategy`` to customers with evidence for any of ``causes``, but ``customer``.

    The group's tally is counted once per cause set and cached in ``offers`` (a scan of the
    strategy's offers with at most ``len(causes)`` set lookups each); the customer's own offers
    are left out by a recount when it belongs to the group and has offers of the strategy. Equal
    to counting over the union of the causes' customer sets without the customer, without
    building that union per request.
    """
    version = cause_version(ctx)
    if offers.cause_version != version:
        _forget_tallies(ctx, offers, version)
    key = (strategy, causes)
    group = offers.tallies.get(key)
    if group is None:
        sets = [_customers_with_cause(ctx, cz) for cz in causes]
        group = _Tally()
        for who, accepted, after in offers.by_strategy.get(strategy, []):
            if any(who in members for members in sets):
                group.add(accepted, after)
        offers.tallies[key] = group
    own = offers.own.get((strategy, customer))
    if not own or not any(customer in _customers_with_cause(ctx, cz) for cz in causes):
        return group
    mine = _Tally()  # recounted (not subtracted) so the mean is summed in the same order
    sets = [_customers_with_cause(ctx, cz) for cz in causes]
    for who, accepted, after in offers.by_strategy.get(strategy, []):
        if who != customer and any(who in members for members in sets):
            mine.add(accepted, after)
    return mine


def _customers_with_cause(ctx: Context, cause: str) -> set[str]:
    """Customers with evidence for ``cause`` (an indicating bin or a non-negated mention)."""
    cache = getattr(ctx, "_cause_customers", None)
    if cache is None:
        cache = _build_cause_customers(ctx)
        ctx._cause_customers = cache  # type: ignore[attr-defined]
    return cache.get(cause, set())


def _build_cause_customers(ctx: Context) -> dict[str, set[str]]:
    """Cause -> customers with evidence for it, from the graph's edges (vectorised).

    Only edges into bins / utterances that indicate or mention a cause are kept (one pass over
    the edge tensor), grouped by destination, and each group's customers are added to its
    causes: linear in the matching edges, not in every ``HAS_TAG`` edge (17.6M at 100k
    customers).
    """
    import torch

    data = ctx.scorer.data
    ckeys = data["customer"].node_key
    out: dict[str, set[str]] = defaultdict(set)
    for et, table in (
        (("customer", "has_tag", "tag_bin"), ctx.concepts.indicates),
        (("customer", "said", "utterance"), ctx.concepts.mentions),
    ):
        if et not in data.edge_types:
            continue
        dk = data[et[2]].node_key
        wanted = [i for i, key in enumerate(dk) if table.get(key)]
        if not wanted:
            continue
        ei = data[et].edge_index
        keep = torch.isin(ei[1], torch.tensor(wanted, dtype=ei.dtype))
        src, dst = ei[0][keep], ei[1][keep]
        order = torch.argsort(dst, stable=True)
        src, dst = src[order].tolist(), dst[order]
        groups, counts = torch.unique_consecutive(dst, return_counts=True)
        start = 0
        for d, n in zip(groups.tolist(), counts.tolist(), strict=True):
            members = {ckeys[i] for i in src[start : start + n]}
            start += n
            for cause, _ in table[dk[d]]:
                out[cause] |= members
    return dict(out)


def warm_up(store: GraphStore, ctx: Context) -> None:
    """Read offers and build the cause -> customers index now, not on the first recommendation."""
    _offers(store)
    _customers_with_cause(ctx, "")  # builds the index of every cause


def customer_bins(
    ctx: Context, c: int, items: Sequence[EvidenceItem] | None = None
) -> dict[str, str]:
    """``{tag id: bin id}`` of customer ``c`` (from its HAS_TAG bins).

    Args:
        ctx: Context.
        c: Customer index.
        items: The customer's evidence items, when the caller has them already.
    """
    out: dict[str, str] = {}
    for it in ctx.scorer.evidence(c) if items is None else items:
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
    evidence = ctx.scorer.evidence(c)
    eligible = eligible_strategies(ontology, customer_bins(ctx, c, evidence))
    if not eligible:
        return []
    cs = cause_scores(ctx, c, domain, min_confidence=ACTION_MIN_CONFIDENCE, evidence=evidence)
    d = ctx.scorer.domains.index(domain)
    causes = [cz for cz, _ in cs.ranked]
    top = tuple(sorted(causes[:3]))
    offers = _offers(store)
    plans: list[tuple[str, list[str], list[int]]] = []
    for sid in eligible:
        fixed = strategy_causes(ontology, ctx, sid, causes)
        items = sorted({i for cz in fixed for i, _, _ in cs.paths.get(cz, [])})
        plans.append((sid, fixed, items))
    # most plans remove nothing or one candidate item: the attribution pass scored those already
    scored = dict(cs.score_without)
    todo = [t for t in dict.fromkeys([(), *(tuple(items) for _, _, items in plans)])
            if t not in scored]
    if todo:
        _, score = ctx.scorer.score(c, [list(t) for t in todo], cs.items)
        scored.update({t: float(score[r, d]) for r, t in enumerate(todo)})
    base = scored[()]
    actions: list[Action] = []
    weight = dict(cs.ranked)
    for sid, fixed, items in plans:
        uplift = scored[tuple(items)] - base
        total = sum(weight[cz] for cz in fixed)
        match = (
            sum(weight[cz] * match_strength(ontology, ctx, sid, cz) for cz in fixed) / total
            if total > 0
            else 0.0
        )
        global_rate = offers.global_rate.get(sid, 0.25)  # (0 + 1) / (0 + 4): no offers yet
        sim = similar_tally(ctx, offers, sid, top, customer)
        rate = (sim.accepted + PRIOR_STRENGTH * global_rate) / (sim.n + PRIOR_STRENGTH)
        cost = ontology[sid].cost
        change = rate * match * uplift
        rank = change / cost if cost_aware and cost else change
        labels = ctx.concepts.labels([sid, *fixed])
        sent = action_sentence(labels, lang, sid, fixed, change, rate, sim.n)
        actions.append(
            Action(
                strategy=sid,
                expected_change=change,
                model_uplift=uplift,
                acceptance_rate=rate,
                similar_offers=sim.n,
                satisfaction_after=sim.after_sum / sim.after_n if sim.after_n else None,
                cost=cost,
                addresses=fixed,
                score=rank,
                sentence=sent.text,
                match=match,
            )
        )
    actions.sort(key=lambda a: (-a.score, -a.acceptance_rate, a.strategy))
    return actions[:k]
