"""Real-time events and action outcomes: HTTP bodies -> the ingest events module, timed.

An event goes to the model's answer thread before the reads waiting there
(:func:`~needgraph.api.deps.answer_first`); there it is recorded like an ingested row, then the
customer's star is re-read into the loaded reasoner and the prediction and top actions are
computed again, without retraining (:func:`apply`, which runs
:func:`needgraph.reasoning.live.apply_event`, as the CLI does). Recording in the answer thread,
not in a pool thread beside it, gives the event's text analysis (the sentence embedding: most of
a complaint's cost) the core instead of a share of it against the reads (``bench/RESULTS.md``,
"Events recorded in the answer thread"). An outcome is recorded like an offers-file row
(:func:`needgraph.ingest.events.record_outcome`) and changes the acceptance rates recommendations
use at once; with a model loaded the customer's star is refreshed too and the answer carries the
actions afterwards (:func:`needgraph.reasoning.live.apply_outcome`). Both are idempotent by their
id.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from needgraph.api.deps import answer_first
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
    from needgraph.reasoning.live import StepClock
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


async def post_event(
    slot: ModelSlot,
    metrics: ApiMetrics,
    body: EventCreate,
    k: int,
    lang: str,
    all_domains: bool = False,
) -> dict[str, Any]:
    """Record and answer the event in the model's answer thread, before the waiting reads.

    Shielded from cancellation: an event once posted is recorded and applied to this worker's
    graph even when its client leaves (a worker never re-reads its own change-log entries).

    Raises:
        ModelNotLoadedError: No model is loaded (503; nothing is written).
        EventValidationError: A field is missing or wrong for the kind (422 naming it).
    """
    from needgraph.reasoning.live import StepClock

    clock = StepClock()  # its first lap, ``wait``, is the time queued

    def queued(reasoner: Reasoner) -> dict[str, Any]:
        clock.lap("wait")
        return apply(reasoner, metrics, body, clock, k, lang, all_domains)

    return await asyncio.shield(answer_first(slot, queued))


def apply(
    reasoner: Reasoner,
    metrics: ApiMetrics,
    body: EventCreate,
    clock: StepClock,
    k: int,
    lang: str,
    all_domains: bool = False,
) -> dict[str, Any]:
    """The event recorded, with the customer's new prediction and top-``k`` actions.

    :func:`needgraph.reasoning.live.apply_event` (what ``needgraph events`` runs), timed on
    ``clock`` and counted in the metrics.

    Raises:
        EventValidationError: A field is missing or wrong for the kind (422 naming it).
    """
    from needgraph.reasoning.live import apply_event

    result = apply_event(reasoner, to_event(body), k=k, lang=lang, all_domains=all_domains,
                         clock=clock)
    metrics.inference.labels("event").observe(result.ms["total"] / 1000)
    outcome = "created" if result.event.created else "duplicate"
    metrics.events.labels(body.kind, outcome).inc()
    return result.to_dict()


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
