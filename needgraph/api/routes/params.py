"""Path and query parameters the reasoning routes share (no router here)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from needgraph.api.schemas.reasoning import MAX_K, Lang

CustomerPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        description="customer id (percent-encode a `/` in it)",
        examples=["C-1023"],
    ),
]
DomainQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="domain id; may be left out when the model predicts one domain",
        examples=["domain.home_broadband"],
    ),
]
KQuery = Annotated[int, Query(ge=1, le=MAX_K, description=f"how many (1-{MAX_K})")]
MinConfidenceQuery = Annotated[
    float | None,
    Query(
        ge=0.0,
        le=1.0,
        description="smallest confidence (0-1) of a reported cause; default 0.7 (precision "
        "first). Lower reports more, less sure causes (docs/api.md gives the measured "
        "trade-off); when none passes, the answer is no_strong_driver",
        examples=[0.5],
    ),
]
LangQuery = Annotated[Lang, Query(description="language of the sentences: zh or en")]
AllDomainsQuery = Annotated[
    bool,
    Query(
        description="rank actions for every domain the model predicts; by default only for the "
        "event's own domain, or the one the customer is most likely dissatisfied with"
    ),
]
CostAwareQuery = Annotated[
    bool, Query(description="rank by expected change per cost unit instead of expected change")
]
