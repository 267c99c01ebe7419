"""RFC 9457 problem+json responses for every error the API returns.

Every problem has a stable ``type`` (``https://needgraph.dev/problems/<slug>``), a ``title``,
the ``status``, a ``detail`` naming the field, id or value at fault, and ``instance`` (the request
path). Validation problems add ``errors`` (``[{field, message}]``); ontology validation adds
``problems`` (the ontology package's problem list). No stack trace ever leaves the process.
"""

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
_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Payload too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}


def problem_document(
    status: int, slug: str, title: str, detail: str, instance: str
) -> dict[str, Any]:
    """Return a problem document (the members every problem has)."""
    return {
        "type": PROBLEM_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }


def problem_response(
    status: int, body: dict[str, Any], request: Request, headers: dict[str, str] | None = None
) -> JSONResponse:
    """A problem+json response with ``instance`` set to the request path."""
    body = {"status": status, **body, "instance": request.url.path}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def validation_problem(errors: list[dict[str, str]]) -> dict[str, Any]:
    """Return the members of a 422 problem for request validation ``errors``."""
    first = errors[0] if errors else {"field": "request", "message": "invalid"}
    return {
        "type": PROBLEM_BASE + "invalid-request",
        "title": "Invalid request",
        "detail": f"{first['field']}: {first['message']}",
        "errors": errors,
    }


async def _needgraph_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, NeedgraphError)
    if exc.status >= 500:
        log.error("request failed: %s", exc.detail, extra={"problem": exc.type_slug})
    headers = {"WWW-Authenticate": 'ApiKey header="X-API-Key"'} if exc.status == 401 else None
    return problem_response(exc.status, exc.problem(), request, headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": ".".join(str(p) for p in err.get("loc", ())), "message": str(err.get("msg", ""))}
        for err in exc.errors()
    ]
    return problem_response(422, validation_problem(errors), request)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    body = {"type": PROBLEM_BASE + slug, "title": title, "detail": str(exc.detail)}
    headers = dict(exc.headers) if exc.headers else None
    return problem_response(exc.status_code, body, request, headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error", extra={"error_type": type(exc).__name__})
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
