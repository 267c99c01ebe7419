"""The role x route matrix of the reasoning, event, outcome and model routes (model loaded)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Trained, problem

CUSTOMER = "R-0001"
HOME = "domain.home_net"
# name -> (method, path, query, json body)
ROUTES: dict[str, tuple[str, str, dict[str, Any] | None, dict[str, Any] | None]] = {
    "predict": ("GET", f"/v1/customers/{CUSTOMER}/prediction", None, None),
    "predict-batch": ("POST", "/v1/predictions", None, {"customers": [CUSTOMER]}),
    "explain": ("GET", f"/v1/customers/{CUSTOMER}/explanation", {"domain": HOME}, None),
    "recommend": ("GET", f"/v1/customers/{CUSTOMER}/recommendations", {"domain": HOME}, None),
    "recommend-batch": ("POST", "/v1/recommendations", None,
                        {"customers": [CUSTOMER], "domain": HOME}),
    "drivers": ("GET", "/v1/drivers", {"domain": HOME, "k": 2}, None),
    "model": ("GET", "/v1/model", None, None),
    "event": ("POST", "/v1/events", None,
              {"customer": CUSTOMER, "kind": "survey_answer", "domain": HOME, "score": 4,
               "event_id": "auth-matrix-survey"}),
    "outcome": ("POST", "/v1/outcomes", None,
                {"customer": CUSTOMER, "strategy": "strategy.speed_trial", "status": "offered",
                 "outcome_id": "auth-matrix-offer"}),
    "reload": ("POST", "/v1/model/reload", None, None),
}
READ = {"predict", "predict-batch", "explain", "recommend", "recommend-batch", "drivers", "model"}
ALLOWED = {
    "analyst": READ,
    "engine": READ | {"event", "outcome"},
    "editor": READ,
    "admin": set(ROUTES),
}
CASES = [
    pytest.param(role, name, name in allowed, id=f"{role}-{name}")
    for role, allowed in ALLOWED.items()
    for name in ROUTES
]


@pytest.mark.parametrize(("role", "route", "allowed"), CASES)
def test_reasoning_role_matrix(model_api: Trained, role: str, route: str, allowed: bool) -> None:
    api = model_api.api
    method, path, query, body = ROUTES[route]
    response = api.request(method, path, role, params=query, json=body)
    if allowed:
        assert response.status_code in (200, 201), response.text
        return
    found = problem(response, 403, "forbidden")
    assert found["scope"] and "scope" in str(found["detail"])


@pytest.mark.parametrize("route", sorted(ROUTES))
def test_reasoning_routes_need_a_key(model_api: Trained, route: str) -> None:
    method, path, query, body = ROUTES[route]
    response = model_api.api.request(method, path, None, params=query, json=body)
    problem(response, 401, "unauthorized")
