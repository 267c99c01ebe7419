"""Pure ASGI middleware: request id, access log and metrics; request body size limits.

:class:`RequestContextMiddleware` (outermost) gives every request an id (the caller's
``X-Request-ID`` when usable, else a new one), echoes it on the response, logs one access line
(method, route template, status, duration, key id - never the path, query, body or key) and
feeds the Prometheus metrics. An exception no handler took becomes a 500 problem+json here, with
only the exception's type and frames logged (its message could carry data).

:class:`BodyLimitMiddleware` refuses a body larger than the route's limit with 413
problem+json: at once when ``Content-Length`` says so, else as soon as the streamed body passes
the limit.
"""

from __future__ import annotations

import json
import logging
import re
import time
import traceback
from collections.abc import Mapping

from fastapi.routing import iter_route_contexts
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException
from starlette.routing import BaseRoute, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from needgraph.api.context import REQUEST_ID, request_id_from
from needgraph.api.metrics import UNMATCHED_ROUTE, ApiMetrics
from needgraph.api.problems import PROBLEM_JSON, problem_document

access_log = logging.getLogger("needgraph.api.access")
error_log = logging.getLogger("needgraph.api")
QUIET_ROUTES = frozenset({"/livez", "/readyz", "/metrics"})
REQUEST_ID_HEADER = "X-Request-ID"


class RouteTable:
    """Names the route template of a request (``/v1/concepts/{concept_id}``).

    Built on first use from the app's routes (included routers are flattened), so requests that
    never reach a route (413 before routing, 404, 405) are named too.

    Args:
        routes: The app's route list (read lazily).
    """

    def __init__(self, routes: list[BaseRoute]) -> None:
        self._routes = routes
        self._table: list[tuple[re.Pattern[str], str, frozenset[str]]] | None = None

    def _build(self) -> list[tuple[re.Pattern[str], str, frozenset[str]]]:
        table = []
        for context in iter_route_contexts(self._routes):
            path, template = context.path, context.path_format
            if isinstance(path, str) and isinstance(template, str):
                regex, _format, _convertors = compile_path(path)
                table.append((regex, template, frozenset(context.methods or ())))
        return table

    def template(self, method: str, path: str) -> str:
        """Return the template of the route that answers ``method path`` (or would, for 405)."""
        if self._table is None:
            self._table = self._build()
        fallback = UNMATCHED_ROUTE
        for regex, template, methods in self._table:
            if regex.match(path):
                if not methods or method in methods:
                    return template
                if fallback == UNMATCHED_ROUTE:
                    fallback = template
        return fallback


def frames(exc: BaseException) -> str:
    """Return ``file:line in function`` of each traceback frame, innermost last (no message)."""
    return " <- ".join(
        f"{frame.filename.rsplit('/', 2)[-1]}:{frame.lineno} in {frame.name}"
        for frame in reversed(traceback.extract_tb(exc.__traceback__))
    )


async def send_problem(send: Send, status: int, body: dict[str, object]) -> None:
    """Send a complete problem+json response."""
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_JSON.encode()),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


class RequestContextMiddleware:
    """Request id, access log and metrics for every HTTP request.

    Args:
        app: The wrapped ASGI app.
        metrics: Where request counts and latencies go.
        routes: The app's routes (to name the route template of unrouted requests).
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics, routes: list[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = RouteTable(routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(Headers(scope=scope).get(REQUEST_ID_HEADER))
        method, path = str(scope.get("method", "")), str(scope.get("path", ""))
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = int(message["status"])
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            error_log.error(
                "unexpected error",
                extra={
                    "error_type": type(exc).__name__,
                    "frames": frames(exc),
                    "route": self.routes.template(method, path),
                },
            )
            if not response_started:
                body = problem_document(
                    500,
                    "internal",
                    "Internal error",
                    "an unexpected error occurred; it has been logged",
                    scope.get("path", ""),
                )
                await send_problem(send_with_id, 500, body)
        finally:
            seconds = time.perf_counter() - started
            route = self.routes.template(method, path)
            self.metrics.observe_request(method, route, status, seconds)
            state = scope.get("state") or {}
            access_log.log(
                logging.DEBUG if route in QUIET_ROUTES else logging.INFO,
                "request",
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 2),
                    "key_id": state.get("key_id"),
                },
            )
            REQUEST_ID.reset(token)


class BodyLimitMiddleware:
    """Refuse request bodies over a per-route limit with 413 problem+json.

    Args:
        app: The wrapped ASGI app.
        default_limit: Bytes allowed for any route not in ``overrides``.
        overrides: Bytes allowed per ``(METHOD, path)`` (e.g. uploads).
    """

    def __init__(
        self,
        app: ASGIApp,
        default_limit: int,
        overrides: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        self.app = app
        self.default_limit = default_limit
        self.overrides = dict(overrides or {})

    def limit_for(self, method: str, path: str) -> int:
        """Return the body limit of a request."""
        return self.overrides.get((method, path.rstrip("/") or "/"), self.default_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(str(scope.get("method", "")), str(scope.get("path", "")))
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            detail = f"request body of {int(declared)} bytes exceeds the limit of {limit} bytes"
            body = problem_document(
                413, "payload-too-large", "Payload too large", detail, scope.get("path", "")
            )
            body["limit"] = limit
            await send_problem(send, 413, body)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(
                        413, f"request body exceeds the limit of {limit} bytes for this route"
                    )
            return message

        await self.app(scope, limited_receive, send)
