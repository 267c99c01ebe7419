"""The service without a model (503s, no torch), loading one at start-up, and reloading."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.api.conftest import ADMIN_KEY, Trained, problem, running_api, server_env
from tests.conftest import REPO

BOOT = {"X-API-Key": ADMIN_KEY}


def test_without_a_model_reasoning_answers_503(tmp_path: Path) -> None:
    env = {**server_env(tmp_path), "NEEDGRAPH_STORE": f"sqlite:///{tmp_path}/empty.db"}
    with running_api(env) as client:
        ready = client.get("/readyz")
        body = problem(ready, 503, "model-not-loaded")
        assert body["checks"] == {"store": "ok", "ontology": "ok", "model": "failed"}
        assert "needgraph train" in str(body["detail"])
        for method, path in (
            ("GET", "/v1/customers/C-1/prediction"),
            ("GET", "/v1/customers/C-1/explanation?domain=domain.home_net"),
            ("GET", "/v1/customers/C-1/recommendations?domain=domain.home_net"),
            ("POST", "/v1/predictions"),
            ("GET", "/v1/drivers"),
            ("GET", "/v1/model"),
        ):
            json = {"customers": ["C-1"]} if method == "POST" else None
            answer = client.request(method, path, headers=BOOT, json=json)
            assert "no model loaded" in str(problem(answer, 503, "model-not-loaded")["detail"])
        event = {"customer": "C-1", "kind": "complaint_text", "text": "太慢了"}
        problem(client.post("/v1/events", headers=BOOT, json=event), 503, "model-not-loaded")
        # authentication and roles are checked before the model
        problem(client.post("/v1/events", json=event), 401, "unauthorized")
        problem(client.post("/v1/model/reload", headers=BOOT), 503, "model-not-found")
        # outcomes need no model: recorded, no actions
        assert client.post("/v1/ontology/versions", headers=BOOT,
                           json={"why": "test"}).status_code == 201
        outcome = {"customer": "C-1", "strategy": "strategy.speed_trial", "status": "offered"}
        recorded = client.post("/v1/outcomes", headers=BOOT, json=outcome)
        assert recorded.status_code == 201, recorded.text
        assert recorded.json()["actions"] == {} and recorded.json()["outcome"]["created"]


def test_app_without_a_model_never_imports_torch(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from needgraph.api.app import create_app\n"
        "with TestClient(create_app()) as client:\n"
        "    assert client.get('/readyz').status_code == 503\n"
        "    key = {'X-API-Key': sys.argv[1]}\n"
        "    assert client.get('/v1/model', headers=key).status_code == 503\n"
        "print(sorted(m for m in ('torch', 'torch_geometric', 'sentence_transformers', 'spacy')"
        " if m in sys.modules))\n"
    )
    env = {**os.environ, **server_env(tmp_path), "NEEDGRAPH_STORE": f"sqlite:///{tmp_path}/x.db"}
    out = subprocess.run([sys.executable, "-c", code, ADMIN_KEY], capture_output=True, text=True,
                         cwd=REPO, env=env, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_model_loads_at_start_up_from_needgraph_model(model_api: Trained, tmp_path: Path) -> None:
    """A second server on the same store, pointed at the artifact, gets ready by itself."""
    api = model_api.api
    artifact = next((api.root / "models").glob(f"model-{model_api.model_id}.pt"))
    env = {**server_env(tmp_path), **api.store_env, "NEEDGRAPH_MODEL": str(artifact)}
    with running_api(env) as client:
        deadline = time.monotonic() + 90
        while (ready := client.get("/readyz")).status_code != 200:
            assert ready.json()["checks"]["model"] == "failed"
            assert time.monotonic() < deadline, ready.text
            time.sleep(0.3)
        info = client.get("/v1/model", headers=BOOT).json()
        assert info["model_id"] == model_api.model_id and info["path"] == str(artifact)
        # the events' text linker came with the model, before ready (not on the first text)
        assert "needgraph_text_linker_loaded 1.0" in client.get("/metrics").text
        here = client.get(f"/v1/customers/{model_api.customers[2]}/prediction", headers=BOOT)
        there = api.get(f"/v1/customers/{model_api.customers[2]}/prediction")
        assert here.status_code == 200, here.text
        # the running server refreshed customers after events (its tag-bin states are cached);
        # this one exported the graph afresh: the same model, close predictions
        mine, theirs = here.json()["domains"], there.json()["domains"]
        assert [(d["domain"], d["label"]) for d in mine] == [
            (d["domain"], d["label"]) for d in theirs]
        for a, b in zip(mine, theirs, strict=True):
            assert abs(a["p_dissatisfied"] - b["p_dissatisfied"]) < 0.1, (mine, theirs)


def test_failed_reload_keeps_the_model(model_api: Trained, tmp_path: Path) -> None:
    api = model_api.api
    models = api.root / "models"
    pointer = models / "latest"
    saved = pointer.read_text(encoding="utf-8")
    (models / "model-broken.pt").write_bytes(b"not a model")
    pointer.write_text("model-broken.pt\n", encoding="utf-8")
    try:
        broken = api.post("/v1/model/reload", "admin")
        assert "not a needgraph model" in str(problem(broken, 409, "model-mismatch")["detail"])
        assert api.get("/v1/model").json()["model_id"] == model_api.model_id
        assert api.client.get("/readyz").status_code == 200
    finally:
        pointer.write_text(saved, encoding="utf-8")
        (models / "model-broken.pt").unlink()
    reloaded = api.post("/v1/model/reload", "admin")
    assert reloaded.status_code == 200 and reloaded.json()["model_id"] == model_api.model_id


@pytest.mark.parametrize("role", ["analyst", "engine", "editor"])
def test_only_admins_reload(model_api: Trained, role: str) -> None:
    problem(model_api.api.post("/v1/model/reload", role), 403, "forbidden")
