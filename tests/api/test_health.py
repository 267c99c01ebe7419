"""Health probes and problem+json, against the real server over HTTP (both stores)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.api.conftest import Api, Trained, free_port, problem, running_api, server_env


def test_livez_readyz(model_api: Trained) -> None:
    api = model_api.api
    assert api.client.get("/livez").json() == {"status": "ok"}
    ready = api.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "store": api.backend,
        "checks": {"store": "ok", "ontology": "ok", "model": "ok"},
    }


def test_unknown_route_is_problem_json(api: Api) -> None:
    body = problem(api.client.get("/v1/no-such-thing"), 404, "not-found")
    assert body["instance"] == "/v1/no-such-thing"


def test_readyz_is_503_when_neo4j_is_unreachable_and_shutdown_is_clean(tmp_path: Path) -> None:
    dead = f"bolt://127.0.0.1:{free_port()}"
    env = {**server_env(tmp_path), "NEEDGRAPH_STORE": dead, "NEO4J_PASSWORD": "x"}
    log_path = tmp_path / "server.log"
    with running_api(env, log_path) as client:
        assert client.get("/livez").status_code == 200
        response = client.get("/readyz")
        body = problem(response, 503, "store-unavailable")
        assert body["checks"] == {"store": "failed", "ontology": "ok", "model": "failed"}
    messages = [
        json.loads(line)["msg"]
        for line in log_path.read_text(encoding="utf-8").splitlines()
        if line.startswith("{")
    ]
    assert messages[0] == "service started" and messages[-1] == "service stopped"
