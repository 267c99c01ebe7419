"""Authentication and roles over HTTP: the role x route matrix, 401/403 problems, key life cycle."""

from __future__ import annotations

import time

import pytest

from tests.api.conftest import ADMIN_KEY, Api, Trained, problem

# a representative route per scope: name -> (method, path, json body)
ROUTES: dict[str, tuple[str, str, dict[str, str] | None]] = {
    "read": ("GET", "/v1/concepts?limit=1", None),
    "read-node": ("GET", "/v1/nodes/Cause/cause.evening_congestion", None),
    "ontology-write": ("POST", "/v1/ontology/versions", {"why": "auth matrix"}),
    "ingest": ("GET", "/v1/ingest-jobs", None),
    "keys": ("GET", "/v1/keys", None),
}
ALLOWED = {
    "analyst": {"read", "read-node"},
    "engine": {"read", "read-node"},
    "editor": {"read", "read-node", "ontology-write"},
    "admin": set(ROUTES),
}
CASES = [
    pytest.param(role, name, 200 if name in allowed else 403, id=f"{role}-{name}")
    for role, allowed in ALLOWED.items()
    for name in ROUTES
] + [pytest.param(None, name, 401, id=f"no-key-{name}") for name in ROUTES]


@pytest.mark.parametrize(("role", "route", "status"), CASES)
def test_role_matrix(api: Api, role: str | None, route: str, status: int) -> None:
    method, path, body = ROUTES[route]
    response = api.client.request(method, path, headers=api.headers(role), json=body)
    if status == 200:
        assert response.status_code in (200, 201), response.text
        return
    slug = "unauthorized" if status == 401 else "forbidden"
    found = problem(response, status, slug)
    if status == 403:
        assert "scope" in str(found["detail"]) and found["scope"]
    else:
        assert response.headers["www-authenticate"].startswith("ApiKey")


@pytest.mark.parametrize(
    "key",
    ["nope", "ngk_000000000000_" + "A" * 43, "x" * 300, ADMIN_KEY + "x"],
    ids=["short", "well-formed-unknown", "too-long", "admin-plus-one"],
)
def test_unknown_key_is_401(api: Api, key: str) -> None:
    response = api.client.get("/v1/concepts", headers={"X-API-Key": key})
    assert "not valid" in str(problem(response, 401, "unauthorized")["detail"])


def test_public_routes_need_no_key(model_api: Trained) -> None:
    for path in ("/livez", "/readyz", "/metrics", "/openapi.json", "/docs"):
        assert model_api.api.client.get(path).status_code == 200, path


def test_bootstrap_admin_key_works(api: Api) -> None:
    assert api.get("/v1/keys", "bootstrap").status_code == 200


def test_key_life_cycle(api: Api) -> None:
    created = api.post("/v1/keys", "admin", json={"name": "temp engine", "role": "engine"})
    assert created.status_code == 201, created.text
    record = created.json()
    key = record["key"]
    assert key.startswith("ngk_") and record["active"] is True
    assert created.headers["location"] == f"/v1/keys/{record['id']}"
    assert created.headers["cache-control"] == "no-store"
    headers = {"X-API-Key": key}
    assert api.client.get("/v1/concepts?limit=1", headers=headers).status_code == 200
    listing = api.get("/v1/keys?limit=500", "admin").json()
    assert record["id"] in {item["id"] for item in listing["items"]}
    assert key not in str(listing) and "hash" not in str(listing) and "salt" not in str(listing)
    revoked = api.client.delete(f"/v1/keys/{record['id']}", headers=api.headers("admin"))
    assert revoked.status_code == 200 and revoked.json()["active"] is False
    refused = api.client.get("/v1/concepts?limit=1", headers=headers)
    assert "revoked" in str(problem(refused, 401, "unauthorized")["detail"])
    gone = api.client.delete("/v1/keys/000000000000", headers=api.headers("admin"))
    problem(gone, 404, "api-key-not-found")


def test_key_request_validation(api: Api) -> None:
    bad_role = api.post("/v1/keys", "admin", json={"name": "x", "role": "root"})
    assert problem(bad_role, 422, "invalid-request")["errors"][0]["field"] == "body.role"
    bad_name = api.post("/v1/keys", "admin", json={"name": "", "role": "engine"})
    assert problem(bad_name, 422, "invalid-request")["errors"][0]["field"] == "body.name"


def test_keys_cli_issues_a_key_the_server_accepts(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from needgraph.cli.keys import app
    from needgraph.config import Settings
    from needgraph.graph import factory

    store = api.store_env["NEEDGRAPH_STORE"]
    monkeypatch.setattr(factory, "get_settings", lambda: Settings(store=store))
    runner = CliRunner()
    created = runner.invoke(app, ["create", "--role", "analyst", "--name", "cli-analyst"])
    assert created.exit_code == 0, created.output
    key = created.stdout.strip().splitlines()[-1]
    assert key.startswith("ngk_")
    key_id = key.split("_")[1]
    headers = {"X-API-Key": key}
    deadline = time.monotonic() + 5  # another process issued it: the server re-reads on a miss
    while api.client.get("/v1/concepts?limit=1", headers=headers).status_code == 401:
        assert time.monotonic() < deadline, "the server never accepted the CLI's key"
        time.sleep(0.1)
    assert api.client.get("/v1/keys", headers=headers).status_code == 403
    listed = runner.invoke(app, ["list", "--json"])
    assert listed.exit_code == 0 and key_id in listed.stdout and key not in listed.stdout
    assert runner.invoke(app, ["revoke", key_id]).exit_code == 0
    assert runner.invoke(app, ["create", "--role", "root", "--name", "x"]).exit_code != 0
