"""Why a customer is predicted (dis)satisfied: explanation paths (``read`` scope)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from needgraph.api.deps import MetricsDep, ModelSlotDep, Reader, answer_in_order
from needgraph.api.routes.params import (
    CustomerPath,
    DomainQuery,
    KQuery,
    LangQuery,
    MinConfidenceQuery,
)
from needgraph.api.schemas.reasoning import ExplanationPublic
from needgraph.api.services import reasoning

router = APIRouter(tags=["reasoning"])


@router.get(
    "/customers/{customer:path}/explanation",
    response_model=ExplanationPublic,
    summary="Why one customer is predicted (dis)satisfied with a domain",
)
async def explain(
    customer: CustomerPath,
    caller: Reader,
    slot: ModelSlotDep,
    metrics: MetricsDep,
    domain: DomainQuery = None,
    k: KQuery = 3,
    lang: LangQuery = "en",
    min_confidence: MinConfidenceQuery = None,
) -> dict[str, Any]:
    """The top-``k`` explanation paths of the customer's prediction for a domain.

    Paths run customer -> evidence (tags, texts) -> cause -> domain and the needs
    the causes block, each with its share of the prediction and a sentence in ``lang``.
    Only causes with confidence >= ``min_confidence`` are reported; none passing is the
    honest "no strong driver found" (``no_strong_driver``).
    """
    return await answer_in_order(
        slot, reasoning.explanation, metrics, customer, domain, k, lang, min_confidence
    )
