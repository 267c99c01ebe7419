"""Action outcomes: what happened to an offered strategy (``outcomes`` scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from needgraph.api.deps import MetricsDep, ModelSlotDep, OutcomeSender
from needgraph.api.routes.params import AllDomainsQuery, KQuery, LangQuery
from needgraph.api.schemas.events import OutcomeCreate, OutcomeResultPublic
from needgraph.api.services import realtime

router = APIRouter(prefix="/outcomes", tags=["events"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=OutcomeResultPublic,
    summary="Report what happened to an action (offered, accepted, declined)",
    responses={
        200: {
            "model": OutcomeResultPublic,
            "description": "A retry of an outcome recorded before (same `outcome_id`)",
        }
    },
)
def post_outcome(
    body: OutcomeCreate,
    response: Response,
    caller: OutcomeSender,
    slot: ModelSlotDep,
    metrics: MetricsDep,
    k: KQuery = 3,
    lang: LangQuery = "en",
    all_domains: AllDomainsQuery = False,
) -> dict[str, Any]:
    """Record what happened to an offered action.

    Updates the customer's open offer of the strategy (or records a new one) with the
    outcome and the satisfaction afterwards; acceptance rates used by recommendations change
    at once, and a follow-up score with a ``domain`` is the customer's latest label for the
    next training run. With a model loaded the answer carries the customer's top-``k`` actions
    per domain afterwards; without one the outcome is still recorded. 201 when recorded, 200
    for a retry.
    """
    answer = realtime.apply_outcome(slot, metrics, body, k, lang, all_domains)
    if not answer["outcome"]["created"]:
        response.status_code = status.HTTP_200_OK
    return answer
