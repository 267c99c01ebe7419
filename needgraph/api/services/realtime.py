"""Real-time events and action outcomes: HTTP bodies -> the ingest events module, timed.

An event is recorded like an ingested row (:func:`needgraph.ingest.events.record_event`), the
customer's star is re-read into the loaded reasoner and the prediction and top actions are
computed again, without retraining (:func:`needgraph.reasoning.live.apply_event`). An outcome is
recorded like an offers-file row (:func:`needgraph.ingest.events.record_outcome`) and changes the
acceptance rates recommendations use at once; with a model loaded the customer's star is refreshed
too and the answer carries the actions afterwards (:func:`needgraph.reasoning.live.apply_outcome`).
Both are idempotent by their id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from needgraph.api.metrics import ApiMetrics
from needgraph.api.schemas.events import EventCreate, OutcomeCreate
from needgraph.api.services.model_slot import ModelSlot
from needgraph.api.services.reasoning import timed
from needgraph.ingest.events import (
    Event,
    EventKind,
    Outcome,
    OutcomeStatus,
    record_outcome,
)

if TYPE_CHECKING:
    from needgraph.reasoning.runtime import Reasoner


def to_event(body: EventCreate) -> Event:
    """The library's :class:`~needgraph.ingest.events.Event` of a request body."""
    return Event(
        customer=body.customer,
        kind=EventKind(body.kind),
        event_id=body.event_id,
        occurred_at=body.occurred_at,
        text=body.text,
        lang=body.lang,
        tag=body.tag,
        value=body.value,
        domain=body.domain,
        score=body.score,
        channel=body.channel,
    )


def apply_event(
    reasoner: Reasoner,
    metrics: ApiMetrics,
    body: EventCreate,
    k: int,
    lang: str,
    all_domains: bool = False,
) -> dict[str, Any]:
    """Record the event and return it with the customer's new prediction and top-``k`` actions.

    Raises:
        EventValidationError: A field is missing or wrong for the kind (422 naming it).
    """
    from needgraph.reasoning.live import apply_event as live_apply

    with timed(metrics, "event"):
        result = live_apply(reasoner, to_event(body), k=k, lang=lang, all_domains=all_domains)
    outcome = "created" if result.event.created else "duplicate"
    metrics.events.labels(body.kind, outcome).inc()
    answer: dict[str, Any] = result.to_dict()
    return answer


def apply_outcome(
    slot: ModelSlot,
    metrics: ApiMetrics,
    body: OutcomeCreate,
    k: int,
    lang: str,
    all_domains: bool = False,
) -> dict[str, Any]:
    """Record what happened to an offered action (idempotent by ``outcome_id``).

    With a model loaded, the customer's star is refreshed (an offer's outcome is one of its
    edges) and the answer carries the top-``k`` actions per domain afterwards; without one the
    outcome is still recorded and ``actions`` is empty.

    Raises:
        EventValidationError: Unknown strategy or domain, or a domain without a score (422).
    """
    outcome = Outcome(
        customer=body.customer,
        strategy=body.strategy,
        status=OutcomeStatus(body.status),
        outcome_id=body.outcome_id,
        satisfaction_after=body.satisfaction_after,
        domain=body.domain,
        occurred_at=body.occurred_at,
    )
    reasoner = slot.serving_or_none()
    with timed(metrics, "outcome"):
        if reasoner is None:
            recorded = record_outcome(slot.store, outcome)
            answer: dict[str, Any] = {"outcome": recorded.to_dict(), "actions": {}, "ms": {}}
        else:
            from needgraph.reasoning.live import apply_outcome as live_apply

            result = live_apply(reasoner, outcome, k=k, lang=lang, all_domains=all_domains)
            recorded, answer = result.outcome, result.to_dict()
    metrics.outcomes.labels(body.status, "created" if recorded.created else "duplicate").inc()
    return answer
