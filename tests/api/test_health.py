"""Health probes and problem+json, against the real server over HTTP."""

from __future__ import annotations

import pytest

from tests.api.conftest import free_port, running_api


def test_livez_readyz_on_embedded_store(tmp_path):
    with running_api({"NEEDGRAPH_STORE": f"sqlite:///{tmp_path}/api.db"}) as client:
        assert client.get("/livez").json() == {"status": "ok"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["store"] == "sqlite"


def test_unknown_route_is_problem_json(tmp_path):
    with running_api({"NEEDGRAPH_STORE": f"sqlite:///{tmp_path}/api.db"}) as client:
        response = client.get("/v1/no-such-thing")
        assert response.status_code == 404
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["type"].endswith("/not-found")
        assert body["instance"] == "/v1/no-such-thing"


def test_readyz_is_503_when_neo4j_is_unreachable():
    dead = f"bolt://127.0.0.1:{free_port()}"
    env = {"NEEDGRAPH_STORE": dead, "NEO4J_PASSWORD": "x"}
    with running_api(env) as client:
        assert client.get("/livez").status_code == 200
        response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["type"].endswith("/store-unavailable")


@pytest.mark.neo4j
def test_readyz_on_neo4j(neo4j_session_store):
    with running_api({"NEEDGRAPH_STORE": "neo4j"}) as client:
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["store"] == "neo4j"
