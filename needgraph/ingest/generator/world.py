"""The generator's world model: the planted truth every synthetic dataset is drawn from.

Every parameter here is derived from an ontology (:mod:`.build`) and written to
``truth_model.json``; :func:`~.world_io.load_world` reads it back, so an evaluator needs only
the files.
The outcome model (:meth:`WorldModel.acceptance_probability`, :meth:`WorldModel.expected_uplift`)
is the one Q2 judges recommendations with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from needgraph.ontology.rules import Rule


@dataclass(frozen=True)
class TagModel:
    """How one leaf tag's raw values are drawn.

    Attributes:
        id: Ontology tag id.
        column: Column (wide file) or tag code (long file) the operator's export uses.
        value_type: ``numeric``, ``categorical`` or ``boolean``.
        layout: ``wide`` (snapshot column in ``customers_tags.csv``) or ``long`` (monthly
            series in ``tags_long.csv``; the latest month is the customer's value).
        bins: Bin ids in ontology order.
        probs: Base probability of each bin (customers without any cause pushing the tag).
        lows: Numeric: lower sampling bound of each bin (finite).
        highs: Numeric: upper sampling bound of each bin (finite; exclusive).
        tails: Numeric: 0 closed bin, 1 open upwards (exponential tail above ``lows``), -1 open
            downwards (exponential tail below ``highs``).
        scales: Numeric: tail scale of each bin.
        decimals: Numeric: decimals raw values are written with.
        spellings: Categorical/boolean: raw spellings of each bin (first = most common).
        loadings: Loadings on the two latent customer factors (value, usage); they correlate tags.
        missing: Probability a customer has no value for the tag.
    """

    id: str
    column: str
    value_type: str
    layout: str
    bins: tuple[str, ...]
    probs: tuple[float, ...]
    lows: tuple[float, ...] = ()
    highs: tuple[float, ...] = ()
    tails: tuple[int, ...] = ()
    scales: tuple[float, ...] = ()
    decimals: int = 0
    spellings: tuple[tuple[str, ...], ...] = ()
    loadings: tuple[float, float] = (0.0, 0.0)
    missing: float = 0.0


@dataclass(frozen=True)
class Evidence:
    """Bins of a tag that reveal a cause.

    Attributes:
        tag: Tag id.
        cause: Leaf cause id.
        bins: Indicating bin ids.
        bin_weights: Ontology weight of each bin (group-cause indications reach leaf causes at
            half weight); a pushed customer lands in a bin with probability proportional to it.
        weight: The strongest of ``bin_weights``.
        p_reveal: Probability a customer with the cause is pushed into ``bins``.
        base_rate: Probability a customer lands in ``bins`` without any push (the decoy rate).
    """

    tag: str
    cause: str
    bins: tuple[str, ...]
    bin_weights: tuple[float, ...]
    weight: float
    p_reveal: float
    base_rate: float

    @property
    def p_given_cause(self) -> float:
        """Probability of an indicating bin given the cause (push or base draw)."""
        return self.p_reveal + (1.0 - self.p_reveal) * self.base_rate


@dataclass(frozen=True)
class CauseModel:
    """A plantable (leaf) cause.

    Attributes:
        id: Cause id.
        prevalence: Base probability a customer has it (before segment and latent effects).
        effects: Satisfaction drop on each domain it affects (1-5 scale).
        broader: Transitive broader (group) causes, nearest first.
        segment: ``(tag, bin, multiplier)``: customers in that bin have it more often; or ``None``.
        latent_beta: Log-odds change per unit of the first latent factor.
        family: Phrase family its texts borrow context from.
    """

    id: str
    prevalence: float
    effects: dict[str, float]
    broader: tuple[str, ...] = ()
    segment: tuple[str, str, float] | None = None
    latent_beta: float = 0.0
    family: str = "generic"


@dataclass(frozen=True)
class StrategyModel:
    """An operation strategy and how it works on customers.

    Attributes:
        id: Strategy id.
        resolves: Causes the ontology says it resolves (as written).
        fix: Probability it removes each leaf cause when accepted (direct, via a group, or via
            an addressed need, in decreasing strength).
        domains: Domains whose satisfaction it is measured on afterwards.
        base_logit: Acceptance log-odds before the customer's propensity and relevance.
        goodwill: Satisfaction gain from an accepted offer even when it fixes nothing.
        cost: Cost per customer (ontology), or ``None``.
        channel: Delivery channel (ontology), or ``None``.
        eligibility: Eligibility rule, or ``None`` (everyone).
    """

    id: str
    resolves: tuple[str, ...]
    fix: dict[str, float]
    domains: tuple[str, ...]
    base_logit: float
    goodwill: float
    cost: float | None = None
    channel: str | None = None
    eligibility: Rule | None = None


@dataclass(frozen=True)
class Params:
    """Global knobs of the world (satisfaction, offers, texts)."""

    base_score: float = 4.3
    customer_sd: float = 0.5
    domain_sd: float = 0.35
    max_causes: int = 3
    relevance_weight: float = 2.0
    propensity_sd: float = 0.7
    decline_effect: float = -0.05
    offer_rate: float = 0.35
    targeted_share: float = 0.4
    follow_up_rate: float = 0.7
    zh_share: float = 0.72
    texts_with_causes: float = 1.4
    texts_without_causes: float = 0.35
    decoy_share: float = 0.18
    noise_share: float = 0.2
    vague_share: float = 0.15
    pii_rate: float = 0.12
    domain_label_rate: float = 0.9
    unexplained_rate: float = 0.04


@dataclass(frozen=True)
class CustomerTruth:
    """The planted truth of one customer, as :meth:`WorldModel.expected_uplift` needs it."""

    causes: tuple[str, ...]
    propensity: float

    @classmethod
    def of(cls, truth: CustomerTruth | Mapping[str, Any]) -> CustomerTruth:
        """Accept a :class:`CustomerTruth` or one parsed line of ``truth.jsonl``."""
        if isinstance(truth, CustomerTruth):
            return truth
        causes = tuple(
            c["cause"] if isinstance(c, Mapping) else str(c) for c in truth.get("causes", ())
        )
        return cls(causes=causes, propensity=float(truth.get("propensity", 0.0)))


def sigmoid(x: float) -> float:
    """Return the logistic function of ``x``."""
    return 1.0 / (1.0 + math.exp(-x))


@dataclass(frozen=True)
class WorldModel:
    """Everything planted: tags, causes, evidence, effects, strategies and outcome model."""

    ontology: dict[str, str]
    seed: int
    domains: tuple[str, ...]
    tags: tuple[TagModel, ...]
    causes: tuple[CauseModel, ...]
    evidence: tuple[Evidence, ...]
    strategies: tuple[StrategyModel, ...]
    params: Params = field(default_factory=Params)

    def cause(self, cause_id: str) -> CauseModel:
        """Return the cause model of ``cause_id`` (``KeyError`` when it is not plantable)."""
        return self._causes()[cause_id]

    def strategy(self, strategy_id: str) -> StrategyModel:
        """Return the strategy model of ``strategy_id`` (``KeyError`` when unknown)."""
        return self._strategies()[strategy_id]

    def _causes(self) -> dict[str, CauseModel]:
        found: dict[str, CauseModel] | None = self.__dict__.get("_cause_map")
        if found is None:
            found = {c.id: c for c in self.causes}
            object.__setattr__(self, "_cause_map", found)
        return found

    def _strategies(self) -> dict[str, StrategyModel]:
        found: dict[str, StrategyModel] | None = self.__dict__.get("_strategy_map")
        if found is None:
            found = {s.id: s for s in self.strategies}
            object.__setattr__(self, "_strategy_map", found)
        return found

    def fix_gain(self, strategy_id: str, cause_id: str) -> float:
        """Return the satisfaction gain on the strategy's domains when it removes the cause."""
        strategy = self.strategy(strategy_id)
        effects = self.cause(cause_id).effects
        return sum(effects.get(d, 0.0) for d in strategy.domains) / max(1, len(strategy.domains))

    def acceptance_probability(
        self, truth: CustomerTruth | Mapping[str, Any], strategy_id: str
    ) -> float:
        """Return the probability the customer accepts the strategy when offered.

        Log-odds: strategy base + customer propensity + ``relevance_weight`` times the
        strategy's strongest fix probability over the customer's true causes.
        """
        customer = CustomerTruth.of(truth)
        strategy = self.strategy(strategy_id)
        relevance = max((strategy.fix.get(c, 0.0) for c in customer.causes), default=0.0)
        logit = strategy.base_logit + customer.propensity + self.params.relevance_weight * relevance
        return sigmoid(logit)

    def expected_uplift(self, truth: CustomerTruth | Mapping[str, Any], strategy_id: str) -> float:
        """Return the expected satisfaction change (1-5 scale) from offering the strategy.

        ``P(accept) * (goodwill + sum over true causes of fix probability * gain) +
        (1 - P(accept)) * decline_effect``, on the latent (unrounded, unclipped) scale, on the
        mean of the strategy's domains. Eligibility is not checked here: ``truth.jsonl`` lists
        each customer's eligible strategies.

        Args:
            truth: The customer's :class:`CustomerTruth` or parsed ``truth.jsonl`` line.
            strategy_id: A strategy of the world model.
        """
        customer = CustomerTruth.of(truth)
        strategy = self.strategy(strategy_id)
        accept = self.acceptance_probability(customer, strategy_id)
        gain = strategy.goodwill + sum(
            strategy.fix.get(c, 0.0) * self.fix_gain(strategy_id, c)
            for c in customer.causes
            if c in self._causes()
        )
        return accept * gain + (1.0 - accept) * self.params.decline_effect

    def to_data(self) -> dict[str, Any]:
        """Return the world model as plain data (the content of ``truth_model.json``)."""
        from needgraph.ingest.generator.world_io import world_to_data

        return world_to_data(self)

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> WorldModel:
        """Rebuild a world model from :meth:`to_data` output."""
        from needgraph.ingest.generator.world_io import world_from_data

        return world_from_data(data)
