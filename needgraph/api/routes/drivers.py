"""Key drivers of dissatisfaction with a domain over a segment (``read`` scope)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from needgraph.api.deps import MetricsDep, Reader, ReasonerDep
from needgraph.api.routes.params import DomainQuery, KQuery
from needgraph.api.schemas.reasoning import DriversPublic
from needgraph.api.services import reasoning

router = APIRouter(tags=["reasoning"])


@router.get(
    "/drivers",
    response_model=DriversPublic,
    summary="Why a segment is unhappy",
    responses={404: {"description": "No Segment concept has this id (or it has no rule)"}},
)
def drivers(
    caller: Reader,
    reasoner: ReasonerDep,
    metrics: MetricsDep,
    domain: DomainQuery = None,
    segment: Annotated[
        str | None,
        Query(
            max_length=200,
            description="a Segment concept id of the ontology; every customer when left out",
            examples=["segment.value_tier_a1"],
        ),
    ] = None,
    k: KQuery = 10,
) -> dict[str, Any]:
    """Causes ranked by mean contribution to predicted dissatisfaction over the segment.

    Over a seeded sample of at most 500 customers), with a bootstrap interval. An unknown segment
    is 404 naming it.
    """
    return reasoning.drivers(reasoner, metrics, domain, segment, k)
