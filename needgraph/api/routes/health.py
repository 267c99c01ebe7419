"""Liveness and readiness probes (no API key needed)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from needgraph.api.deps import StoreDep
from needgraph.errors import StoreUnavailableError

router = APIRouter(tags=["operations"])


@router.get("/livez", summary="The process is up")
def livez() -> dict[str, str]:
    """Answer 200 while the process runs."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="The store answers",
    responses={503: {"description": "The store is unreachable"}},
)
def readyz(store: StoreDep) -> JSONResponse:
    """Answer 200 when the store answers, 503 (problem+json) otherwise."""
    try:
        store.ping()
    except StoreUnavailableError as exc:
        body = {**exc.problem(), "instance": "/readyz"}
        return JSONResponse(body, status_code=503, media_type="application/problem+json")
    return JSONResponse({"status": "ready", "store": store.backend})
