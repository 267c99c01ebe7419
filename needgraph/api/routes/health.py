"""Liveness, readiness and metrics (no API key needed; see docs/api.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from needgraph.api.metrics import ApiMetrics
from needgraph.api.problems import PROBLEM_JSON
from needgraph.api.readiness import run_checks
from needgraph.api.schemas.health import LivePublic, ReadyPublic

router = APIRouter(tags=["operations"])


@router.get("/livez", summary="The process is up", response_model=LivePublic)
def livez() -> dict[str, str]:
    """Answer 200 while the process runs."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Every readiness check passes (the store answers ...)",
    response_model=ReadyPublic,
    responses={503: {"description": "A readiness check failed (the store is unreachable ...)"}},
)
def readyz(request: Request) -> JSONResponse:
    """Answer 200 when every readiness check passes, 503 (problem+json) naming the failure."""
    outcomes, failure = run_checks(request.app.state.readiness_checks)
    if failure is not None:
        body = {**failure.problem(), "instance": "/readyz", "checks": outcomes}
        return JSONResponse(body, status_code=503, media_type=PROBLEM_JSON)
    return JSONResponse(
        {"status": "ready", "store": request.app.state.store.backend, "checks": outcomes}
    )


@router.get(
    "/metrics",
    summary="Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
def metrics(request: Request) -> Response:
    """Request counts and latency by route template and status; ingest job counters."""
    registry: ApiMetrics = request.app.state.metrics
    return Response(registry.render(), media_type=registry.content_type)
