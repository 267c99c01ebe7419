"""The OpenAPI document: FastAPI's, completed with the service's error answers and scopes.

Every 4xx/5xx answer is documented as ``application/problem+json`` with the ``Problem`` schema;
operations that need a key document 401 and 403 and name the scope and roles they need; those
with input document 422 (request and domain validation), those with a body 400 and 413, those
with path parameters 404, every ``/v1`` operation 503 (store unavailable, no model loaded) and
every changing ``/v1`` operation 409 (conflict with the current state).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts

from needgraph.api.deps import SCOPE_OF
from needgraph.api.problems import PROBLEM_JSON
from needgraph.api.schemas.common import Problem
from needgraph.security.roles import Scope, roles_with

_PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
_DESCRIPTIONS = {
    "400": "The body could not be parsed",
    "401": "No API key, or an unknown or revoked one",
    "403": "The key's role does not grant the scope this operation needs",
    "404": "Not found (the detail names the id)",
    "409": "Conflicts with the current state (exists already, version conflict, not loaded)",
    "413": "The request body is larger than the limit",
    "415": "Unsupported content type",
    "422": "Invalid input: request validation (`errors`) or domain validation (`problems`)",
    "503": "The store is unavailable, or no model is loaded (reasoning operations)",
}


def _scope(dependant: Dependant) -> Scope | None:
    for sub in dependant.dependencies:
        if sub.call in SCOPE_OF:
            return SCOPE_OF[sub.call]
        found = _scope(sub)
        if found is not None:
            return found
    return None


def _scopes(app: FastAPI) -> dict[tuple[str, str], Scope]:
    found: dict[tuple[str, str], Scope] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and isinstance(context.path_format, str):
            scope = _scope(route.dependant)
            if scope is not None:
                for method in context.methods or ():
                    found[(context.path_format, method.lower())] = scope
    return found


def _complete(path: str, method: str, op: dict[str, Any], scope: Scope | None) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    wanted: list[str] = []
    if op.get("security"):
        wanted += ["401", "403"]
    if "requestBody" in op:
        wanted += ["400", "413", "422"]
    if op.get("parameters"):
        wanted.append("422")
    if "{" in path:
        wanted.append("404")
    if path.startswith("/v1/"):
        wanted.append("503")
        if method != "get":
            wanted.append("409")
    for code in wanted:
        responses.setdefault(code, {"description": _DESCRIPTIONS[code]})
    for code, response in responses.items():
        if code[0] in "45":
            response["content"] = {PROBLEM_JSON: {"schema": _PROBLEM_REF}}
            response.setdefault("description", _DESCRIPTIONS.get(code, "Error"))
    if scope is not None:
        roles = ", ".join(role.value for role in roles_with(scope))
        op["x-required-scope"] = scope.value
        note = f"Needs scope `{scope.value}` (roles: {roles})."
        op["description"] = f"{op.get('description', '').rstrip()}\n\n{note}".lstrip()


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """Return (and cache) the app's OpenAPI document."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
        tags=app.openapi_tags,
    )
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    scopes = _scopes(app)
    for path, operations in schema.get("paths", {}).items():
        for method, op in operations.items():
            _complete(path, method, op, scopes.get((path, method)))
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    app.openapi_schema = schema
    return schema
