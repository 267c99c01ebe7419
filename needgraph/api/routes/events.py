"""Real-time events: record one and answer the updated prediction and actions (``events``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from needgraph.api.deps import EventSender, MetricsDep, ModelSlotDep
from needgraph.api.routes.params import AllDomainsQuery, KQuery, LangQuery
from needgraph.api.schemas.events import EventCreate, EventResultPublic
from needgraph.api.services import realtime

router = APIRouter(prefix="/events", tags=["events"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EventResultPublic,
    summary="Record an event; get the customer's new prediction and top actions",
    responses={
        200: {
            "model": EventResultPublic,
            "description": "A retry of an event recorded before (same `event_id`): nothing "
            "was written again; the answer is computed the same way",
        }
    },
)
async def post_event(
    body: EventCreate,
    response: Response,
    caller: EventSender,
    slot: ModelSlotDep,
    metrics: MetricsDep,
    k: KQuery = 3,
    lang: LangQuery = "en",
    all_domains: AllDomainsQuery = False,
) -> dict[str, Any]:
    """Record an event, then answer the customer's new prediction and actions.

    A complaint text, tag change, fault ticket or survey answer is stored like an ingested
    record (unknown customers are created); the customer's neighbourhood is re-read into the
    loaded model without retraining; the answer holds the prediction per domain and the
    top-``k`` actions for the event's domain (or the customer's most at-risk domain;
    ``all_domains`` for every domain). 201 when recorded, 200 for a retry with the same
    ``event_id``.
    """
    answer = await realtime.post_event(slot, metrics, body, k, lang, all_domains)
    if not answer["event"]["created"]:
        response.status_code = status.HTTP_200_OK
    return answer
