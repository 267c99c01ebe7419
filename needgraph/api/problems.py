"""RFC 9457 problem+json responses for every error the API returns."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from needgraph.errors import NeedgraphError

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://needgraph.dev/problems/"
log = logging.getLogger("needgraph.api")


def problem_response(status: int, body: dict[str, Any], request: Request) -> JSONResponse:
    """A problem+json response with ``instance`` set to the request path."""
    body = {"status": status, **body, "instance": request.url.path}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


async def _needgraph_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NeedgraphError)
    if exc.status >= 500:
        log.error("request failed: %s", exc.detail, extra={"problem": exc.type_slug})
    return problem_response(exc.status, exc.problem(), request)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in err.get("loc", ())), "message": err.get("msg", "")}
        for err in exc.errors()
    ]
    first = errors[0] if errors else {"field": "request", "message": "invalid"}
    body = {
        "type": PROBLEM_BASE + "invalid-request",
        "title": "Invalid request",
        "detail": f"{first['field']}: {first['message']}",
        "errors": errors,
    }
    return problem_response(422, body, request)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {
        404: "not-found",
        405: "method-not-allowed",
        401: "unauthorized",
        403: "forbidden",
        413: "payload-too-large",
    }.get(exc.status_code, "http-error")
    body = {
        "type": PROBLEM_BASE + slug,
        "title": slug.replace("-", " ").capitalize(),
        "detail": str(exc.detail),
    }
    return problem_response(exc.status_code, body, request)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected error", extra={"path": request.url.path})
    body = {
        "type": PROBLEM_BASE + "internal",
        "title": "Internal error",
        "detail": "an unexpected error occurred; it has been logged",
    }
    return problem_response(500, body, request)


def install_problem_handlers(app: FastAPI) -> None:
    """Map every error class to problem+json (no stack traces leave the process)."""
    app.add_exception_handler(NeedgraphError, _needgraph_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
