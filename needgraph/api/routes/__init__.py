"""API routes, one module per resource.

``health`` (``/livez``, ``/readyz``, ``/metrics``) is mounted at the root without a key; every
router in :data:`V1_ROUTERS` is mounted under ``/v1`` and each of its routes depends on a role
alias from :mod:`needgraph.api.deps`. A new resource (predictions, explanations,
recommendations, events, outcomes ...) is a new module here with an ``APIRouter`` named
``router``, added to :data:`V1_ROUTERS` (``params`` holds the parameters reasoning routes share).
"""

from __future__ import annotations

from fastapi import APIRouter

from needgraph.api.routes import (
    concepts,
    drivers,
    events,
    explanations,
    ingest_jobs,
    keys,
    model,
    nodes,
    ontology,
    outcomes,
    predictions,
    recommendations,
)

V1_ROUTERS: list[APIRouter] = [
    concepts.router,
    ontology.router,
    nodes.router,
    ingest_jobs.router,
    keys.router,
    predictions.router,
    explanations.router,
    recommendations.router,
    drivers.router,
    events.router,
    outcomes.router,
    model.router,
]
