"""Predicted satisfaction per domain: one customer, or a batch (``read`` scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from needgraph.api.deps import MetricsDep, ModelSlotDep, Reader, ReasonerDep, answer_in_order
from needgraph.api.routes.params import CustomerPath, DomainQuery
from needgraph.api.schemas.reasoning import (
    PredictionBatchCreate,
    PredictionBatchPublic,
    PredictionPublic,
)
from needgraph.api.services import reasoning

router = APIRouter(tags=["reasoning"])


@router.get(
    "/customers/{customer:path}/prediction",
    response_model=PredictionPublic,
    summary="Predicted satisfaction of one customer",
)
async def predict_one(
    customer: CustomerPath,
    caller: Reader,
    slot: ModelSlotDep,
    metrics: MetricsDep,
    domain: DomainQuery = None,
) -> dict[str, Any]:
    """Score 1-5, P(dissatisfied) and the score distribution per domain (or only ``domain``).

    An unknown customer is 404 naming it; a domain the model does not predict is 422 listing
    the ones it does.
    """
    found = await answer_in_order(slot, reasoning.predict, metrics, [customer], domain)
    return found[0]


@router.post(
    "/predictions",
    response_model=PredictionBatchPublic,
    summary="Predict a batch of customers",
    responses={404: {"description": "A customer of the batch is not in the graph"}},
)
def predict_batch(
    body: PredictionBatchCreate, caller: Reader, reasoner: ReasonerDep, metrics: MetricsDep
) -> dict[str, Any]:
    """Predictions of up to 500 customers, in the order given (404 names an unknown one)."""
    return {"items": reasoning.predict(reasoner, metrics, body.customers, body.domain)}
