"""Predictions, explanations, recommendations and drivers over the loaded reasoner, as plain data.

The routes call these with the reasoner from :class:`~needgraph.api.services.model_slot.
ModelSlot`; each answer is timed into ``needgraph_inference_seconds{op}``. The reasoner's own
methods hold its lock while they read the graph; batches hold it for the whole batch, so an event
applied meanwhile never splits one answer between two states of a customer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from needgraph.api.metrics import ApiMetrics
from needgraph.errors import UnknownDomainError

if TYPE_CHECKING:
    from needgraph.reasoning.recommend import Action
    from needgraph.reasoning.runtime import Reasoner


@contextmanager
def timed(metrics: ApiMetrics, op: str) -> Iterator[None]:
    """Observe the block's wall time (seconds) into ``needgraph_inference_seconds{op}``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        metrics.inference.labels(op).observe(time.perf_counter() - started)


def resolve_domain(reasoner: Reasoner, domain: str | None) -> str:
    """``domain``, or the model's only domain when none is given.

    Raises:
        UnknownDomainError: None given while the model predicts several (listing them), or a
            domain the model does not predict (422).
    """
    if domain is None:
        if len(reasoner.domains) == 1:
            return reasoner.domains[0]
        raise UnknownDomainError(
            f"no domain given; the model predicts {', '.join(reasoner.domains)}: name one with "
            "domain=",
            hint="Add ?domain=<one of the listed ids>.",
            domain=None,
            domains=reasoner.domains,
        )
    reasoner.check_domain(domain)
    return domain


def predict(
    reasoner: Reasoner, metrics: ApiMetrics, customers: Sequence[str], domain: str | None
) -> list[dict[str, Any]]:
    """Predicted satisfaction per customer (every domain, or ``domain``), in the order given.

    Raises:
        CustomerNotFoundError: A customer not in the graph (404 naming it).
        UnknownDomainError: A domain the model does not predict (422 listing the valid ones).
    """
    op = "predict" if len(customers) == 1 else "predict_batch"
    with timed(metrics, op), reasoner.lock:
        return [p.to_dict() for p in reasoner.predict(list(customers), domain)]


def explanation(
    reasoner: Reasoner,
    metrics: ApiMetrics,
    customer: str,
    domain: str | None,
    k: int,
    lang: str,
    min_confidence: float | None = None,
) -> dict[str, Any]:
    """Why ``customer`` is predicted (dis)satisfied with ``domain``: the top ``k`` paths."""
    chosen = resolve_domain(reasoner, domain)
    with timed(metrics, "explain"):
        found = reasoner.explain(
            customer, chosen, k=k, lang=lang, min_confidence=min_confidence
        ).to_dict()
    confidence = found.pop("confidence", {})
    found["causes"] = [
        {"cause": c, "weight": w, "confidence": confidence.get(c, 0.0)} for c, w in found["causes"]
    ]
    return found


def _actions(actions: list[Action]) -> list[dict[str, Any]]:
    return [a.to_dict() for a in actions]


def recommendations(
    reasoner: Reasoner,
    metrics: ApiMetrics,
    customers: Sequence[str],
    domain: str | None,
    k: int,
    cost_aware: bool,
    lang: str,
) -> list[dict[str, Any]]:
    """Top-``k`` eligible actions per customer for ``domain``, in the order given."""
    chosen = resolve_domain(reasoner, domain)
    op = "recommend" if len(customers) == 1 else "recommend_batch"
    with timed(metrics, op), reasoner.lock:
        return [
            {
                "customer": customer,
                "domain": chosen,
                "actions": _actions(
                    reasoner.recommend(customer, chosen, k=k, cost_aware=cost_aware, lang=lang)
                ),
            }
            for customer in customers
        ]


def drivers(
    reasoner: Reasoner, metrics: ApiMetrics, domain: str | None, segment: str | None, k: int
) -> dict[str, Any]:
    """Causes driving predicted dissatisfaction with ``domain`` over ``segment`` (all: None).

    Raises:
        NodeNotFoundError: An unknown segment id (404).
    """
    chosen = resolve_domain(reasoner, domain)
    with timed(metrics, "drivers"):
        found = reasoner.drivers(chosen, segment, k=k)
    return {"domain": chosen, "segment": segment, "items": [d.to_dict() for d in found]}
