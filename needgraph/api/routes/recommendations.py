"""Top-k actions for a customer, or a batch of customers (``read`` scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from needgraph.api.deps import MetricsDep, ModelSlotDep, Reader, ReasonerDep, answer_in_order
from needgraph.api.routes.params import (
    CostAwareQuery,
    CustomerPath,
    DomainQuery,
    KQuery,
    LangQuery,
)
from needgraph.api.schemas.reasoning import (
    RecommendationBatchCreate,
    RecommendationBatchPublic,
    RecommendationPublic,
)
from needgraph.api.services import reasoning

router = APIRouter(tags=["reasoning"])


@router.get(
    "/customers/{customer:path}/recommendations",
    response_model=RecommendationPublic,
    summary="Top-k actions for one customer",
)
async def recommend(
    customer: CustomerPath,
    caller: Reader,
    slot: ModelSlotDep,
    metrics: MetricsDep,
    domain: DomainQuery = None,
    k: KQuery = 3,
    cost_aware: CostAwareQuery = False,
    lang: LangQuery = "en",
) -> dict[str, Any]:
    """Eligible strategies for the customer, best first.

    Ranked by expected change of the score: acceptance rate among similar customers x model
    uplift.
    """
    found = await answer_in_order(
        slot, reasoning.recommendations, metrics, [customer], domain, k, cost_aware, lang
    )
    return found[0]


@router.post(
    "/recommendations",
    response_model=RecommendationBatchPublic,
    summary="Top-k actions for a batch of customers",
    responses={404: {"description": "A customer of the batch is not in the graph"}},
)
def recommend_batch(
    body: RecommendationBatchCreate, caller: Reader, reasoner: ReasonerDep, metrics: MetricsDep
) -> dict[str, Any]:
    """Recommendations for up to 500 customers, in the order given."""
    items = reasoning.recommendations(
        reasoner, metrics, body.customers, body.domain, body.k, body.cost_aware, body.lang
    )
    return {"items": items}
