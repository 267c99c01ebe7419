"""Segment drivers: which causes carry a segment's predicted dissatisfaction with a domain.

Every customer of the segment (an ontology Segment's rule over tag bins, or a ``{tag: bin}``
filter) is explained with :func:`~needgraph.reasoning.explain.cause_scores`; a cause's
contribution is its mean path weight over the segment's customers (customers without it count 0),
its share the fraction of customers for whom it passes the confidence bar actions use
(:data:`~needgraph.reasoning.causes.ACTION_MIN_CONFIDENCE`, 0.5: wider than an explanation's
default, so a segment's picture also counts its likely causes), and a percentile bootstrap over
customers gives the interval of the contribution.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from needgraph.ontology.rules import evaluate_rule
from needgraph.reasoning.causes import ACTION_MIN_CONFIDENCE
from needgraph.reasoning.explain import cause_scores, context
from needgraph.reasoning.recommend import customer_bins

if TYPE_CHECKING:
    from torch_geometric.data import HeteroData

    from needgraph.graph.base import GraphStore
    from needgraph.ontology.core import Ontology
    from needgraph.reasoning.train import SatisfactionModel


@dataclass
class Driver:
    """One cause's contribution over a segment.

    Attributes:
        cause: Cause id.
        contribution: Mean path weight per customer (log-odds of P(dissatisfied)).
        low: Lower bound of the bootstrap interval.
        high: Upper bound of the bootstrap interval.
        share_affected: Fraction of the segment's customers where the cause is a driver.
        customers: Customers evaluated.
    """

    cause: str
    contribution: float
    low: float
    high: float
    share_affected: float
    customers: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary."""
        return asdict(self)


def drivers(
    store: GraphStore | None,
    model: SatisfactionModel,
    data: HeteroData,
    domain: str,
    segment: str | Mapping[str, str] | None = None,
    ontology: Ontology | None = None,
    max_customers: int = 500,
    bootstrap: int = 200,
    level: float = 0.9,
    seed: int = 0,
    k: int = 10,
) -> list[Driver]:
    """Causes ranked by their contribution to predicted dissatisfaction over a segment.

    Args:
        store: The graph store (``None`` is fine: only the exported graph is needed).
        model: Trained model.
        data: Exported graph.
        domain: Domain id.
        segment: A Segment id (its ontology rule), a ``{tag id: bin id}`` filter, or ``None`` (all).
        ontology: Needed for a Segment id (default: ``read_ontology()``).
        max_customers: Random sample bound (seeded) for large segments.
        bootstrap: Bootstrap resamples.
        level: Interval coverage.
        seed: Sampling and bootstrap seed.
        k: Drivers to return.

    Returns:
        At most ``k`` :class:`Driver`, largest contribution first.
    """
    ctx = context(store, model, data)
    n = int(data["customer"].num_nodes)
    rule = None
    if isinstance(segment, str):
        if ontology is None:
            from needgraph.ontology.files import read_ontology

            ontology = read_ontology()
        concept = ontology.get(segment)
        if concept is None or concept.rule is None:
            raise KeyError(f"unknown segment {segment!r} (or it has no rule)")
        rule = concept.rule
    members = []
    for c in range(n):
        if segment is None:
            members.append(c)
            continue
        bins = customer_bins(ctx, c)
        if rule is not None:
            ok = evaluate_rule(rule, bins)
        else:
            assert isinstance(segment, Mapping)
            ok = all(bins.get(t) == b for t, b in segment.items())
        if ok:
            members.append(c)
    rng = random.Random(seed)
    if len(members) > max_customers:
        members = sorted(rng.sample(members, max_customers))
    if not members:
        return []
    rows = [cause_scores(ctx, c, domain, min_confidence=ACTION_MIN_CONFIDENCE).causes
            for c in members]
    causes = sorted({cz for r in rows for cz in r})
    m = len(rows)
    out: list[Driver] = []
    for cz in causes:
        vals = [r.get(cz, 0.0) for r in rows]
        mean = sum(vals) / m
        boots = sorted(sum(vals[rng.randrange(m)] for _ in range(m)) / m for _ in range(bootstrap))
        lo = boots[int((1 - level) / 2 * (bootstrap - 1))] if boots else mean
        hi = boots[int((1 + level) / 2 * (bootstrap - 1))] if boots else mean
        share = sum(cz in r for r in rows) / m
        out.append(Driver(cz, mean, lo, hi, share, m))
    out.sort(key=lambda x: (-x.contribution, x.cause))
    return out[:k]
