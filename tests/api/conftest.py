"""Run the real API (``needgraph serve``) in a subprocess and talk to it over HTTP.

``api`` is one running server per store backend for the whole session (embedded SQLite, and
Neo4j when one answers), holding the mini ontology, keys of every role and a named mapping.
Tests share it, so they use their own concept ids and never assume a clean store.

``trained`` (once per backend) ingests a small customer dataset over the mini ontology through
the server's ingest route, trains a tiny real model on that store, saves it into the server's
model directory and has the server load it with ``POST /v1/model/reload``.
"""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.mini import FILES, MAPPING, write_tree
from tests.api.reasoning_data import MAPPING as REASONING_MAPPING
from tests.api.reasoning_data import customer_key, reasoning_csv
from tests.conftest import BACKENDS, REPO

ADMIN_KEY = "adm-" + secrets.token_urlsafe(24)
ROLES = ("analyst", "engine", "editor", "admin")
UPLOAD_LIMIT = 256 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_api(
    env: dict[str, str], log_path: Path | None = None, workers: int = 1
) -> Iterator[httpx.Client]:
    """Start ``needgraph serve`` with ``env`` and yield a client; stop it afterwards.

    The server's output goes to ``log_path`` (a temporary file when ``None``), never to a pipe
    nobody reads. ``workers`` > 1 runs that many worker processes (``--workers``).
    """
    port = free_port()
    handle, name = tempfile.mkstemp(suffix=".log") if log_path is None else (None, str(log_path))
    if handle is not None:
        os.close(handle)
    out = open(name, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "needgraph", "serve", "--port", str(port), "--workers",
         str(workers)],
        cwd=REPO,
        env={**os.environ, "NEEDGRAPH_PROGRESS": "0", **env},
        stdout=out,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/livez", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"API did not start: {Path(name).read_text()[-2000:]}")
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=60) as client:
            yield client
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        out.close()
        if handle is not None:
            Path(name).unlink(missing_ok=True)


@pytest.fixture
def api_factory() -> Callable[..., object]:
    return running_api


@dataclass
class Api:
    """One running server and what the tests need to talk to it."""

    client: httpx.Client
    backend: str
    root: Path
    log_path: Path
    store_env: dict[str, str]
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)

    @property
    def ontology_dir(self) -> Path:
        return self.root / "ontology"

    def headers(self, role: str | None) -> dict[str, str]:
        """Headers carrying the key of ``role`` (``bootstrap`` for the bootstrap admin key)."""
        if role is None:
            return {}
        if role == "bootstrap":
            return {"X-API-Key": ADMIN_KEY}
        return {"X-API-Key": self.keys[role]}

    def request(
        self, method: str, url: str, role: str | None, **kwargs: Any
    ) -> httpx.Response:
        """Send a request with the key of ``role`` (plus any ``headers`` given)."""
        headers = {**self.headers(role), **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, role: str | None = "analyst", **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, role, **kwargs)

    def post(self, url: str, role: str | None = "editor", **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, role, **kwargs)

    def patch(self, url: str, role: str | None = "editor", **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, role, **kwargs)

    def ensure(self) -> Api:
        """Re-create keys and reload the ontology when the store was cleared meanwhile."""
        probe = self.key_ids and self.get(f"/v1/keys/{self.key_ids['analyst']}", "bootstrap")
        if not probe or probe.status_code != 200:
            for role in ROLES:
                answer = self.post(
                    "/v1/keys", "bootstrap", json={"name": f"test-{role}", "role": role}
                )
                assert answer.status_code == 201, answer.text
                self.keys[role] = answer.json()["key"]
                self.key_ids[role] = answer.json()["id"]
        loaded = self.post("/v1/ontology/versions", "editor", json={"why": "test set-up"})
        assert loaded.status_code in (200, 201), loaded.text
        return self


def backend_env(request: pytest.FixtureRequest, backend: str, root: Path) -> dict[str, str]:
    """Environment selecting ``backend`` (a cleared Neo4j, or a new SQLite file in ``root``)."""
    if backend == "neo4j":
        request.getfixturevalue("neo4j_session_store").clear()
        return {"NEEDGRAPH_STORE": "neo4j"}
    return {"NEEDGRAPH_STORE": f"sqlite:///{root}/api.db"}


def server_env(root: Path) -> dict[str, str]:
    """Environment of a test server whose folders live under ``root`` (written here)."""
    write_tree(root / "ontology", FILES)
    write_tree(root / "mappings", {"api_test.yaml": MAPPING})
    return server_vars(root)


def server_vars(root: Path) -> dict[str, str]:
    """Environment of a test server whose folders under ``root`` exist already."""
    return {
        "NEEDGRAPH_ENV": "test",
        "NEEDGRAPH_ONTOLOGY": str(root / "ontology"),
        "NEEDGRAPH_ADMIN_KEY": ADMIN_KEY,
        "NEEDGRAPH_API_DATA_DIR": str(root / "data"),
        "NEEDGRAPH_MAPPINGS": str(root / "mappings"),
        "NEEDGRAPH_MODEL_DIR": str(root / "models"),
        "NEEDGRAPH_API_MAX_UPLOAD_BYTES": str(UPLOAD_LIMIT),
        "NEEDGRAPH_LOG_FORMAT": "json",
        "NEEDGRAPH_LOG_LEVEL": "INFO",
        "HF_HUB_OFFLINE": "1",
    }


@pytest.fixture(scope="session", params=BACKENDS)
def api_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Api]:
    """One server per backend for the whole session."""
    backend = str(request.param)
    root = tmp_path_factory.mktemp(f"api-{backend}")
    store_env = backend_env(request, backend, root)
    env = {**server_env(root), **store_env}
    log_path = root / "server.log"
    with running_api(env, log_path) as client:
        yield Api(client, backend, root, log_path, store_env).ensure()


@pytest.fixture
def api(api_server: Api) -> Api:
    """The session's server of one backend, with keys and the ontology in place."""
    return api_server.ensure()


def problem(response: httpx.Response, status: int, slug: str) -> dict[str, object]:
    """Assert ``response`` is a problem+json of ``status`` and type ``slug``; return it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert str(body["type"]).endswith("/" + slug), body
    assert body["detail"]
    assert "Traceback" not in response.text
    return body


REASONING_CUSTOMERS = 160
REASONING_UNLABELLED = 10


@dataclass
class Trained:
    """The session's server of one backend with a real tiny model loaded.

    Attributes:
        api: The server.
        customers: Keys of the customers the model was trained with (the last few unlabelled).
        model_id: Id of the loaded model.
    """

    api: Api
    customers: list[str]
    model_id: str


def wait_for_job(api: Api, location: str, timeout: float = 240) -> dict[str, Any]:
    """Poll an ingest job until it ends; return its record."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = api.get(location, "admin").json()
        if job["status"] not in ("queued", "running"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def train_tiny_model(store_url: str, model_dir: Path) -> str:
    """Train a small real model on the store at ``store_url``; save it into ``model_dir``.

    Returns:
        The model id.
    """
    from needgraph.config import Settings
    from needgraph.graph.factory import open_store
    from needgraph.reasoning.artifacts import save_versioned
    from needgraph.reasoning.model import ModelConfig
    from needgraph.reasoning.runtime import train_from_store
    from needgraph.reasoning.train import TrainConfig

    with open_store(Settings(store=store_url)) as store:
        model, info = train_from_store(
            store,
            model_config=ModelConfig(hidden=16),
            train_config=TrainConfig(max_epochs=80, patience=15, bags=1, threads=1),
        )
        save_versioned(model, model_dir, info)
    return info.model_id


@pytest.fixture(scope="session")
def trained(api_server: Api) -> Trained:
    """Ingest the reasoning dataset, train, and load the model into the running server."""
    api = api_server.ensure()
    files = {
        "file": ("reasoning.csv", reasoning_csv(REASONING_CUSTOMERS, REASONING_UNLABELLED),
                 "text/csv"),
        "mapping_file": ("mapping.yaml", REASONING_MAPPING.encode(), "application/yaml"),
    }
    accepted = api.client.post("/v1/ingest-jobs", headers=api.headers("admin"), files=files)
    assert accepted.status_code == 202, accepted.text
    job = wait_for_job(api, accepted.headers["location"])
    assert job["status"] == "done", job
    assert job["reports"][0]["rows_written"] == REASONING_CUSTOMERS, job
    model_id = train_tiny_model(api.store_env["NEEDGRAPH_STORE"], api.root / "models")
    loaded = api.post("/v1/model/reload", "admin")
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["model_id"] == model_id
    customers = [customer_key(i) for i in range(REASONING_CUSTOMERS)]
    return Trained(api, customers, model_id)


@pytest.fixture
def model_api(trained: Trained) -> Trained:
    """The server with a model trained on the store's current ontology version, loaded.

    Other tests edit the ontology (each edit is a new version); a model trained before is then
    refused on reload (409 ``model-mismatch``), so it is retrained on the same data first.
    """
    return current_model(trained)


def current_model(trained: Trained) -> Trained:
    """``trained``, its model retrained first if the ontology changed since (see ``model_api``)."""
    api = trained.api.ensure()
    versions = api.get("/v1/ontology/versions", params={"limit": 1}).json()["items"]
    loaded = api.get("/v1/model").json()
    if versions and loaded.get("ontology_version") != versions[0]["version"]:
        trained.model_id = train_tiny_model(api.store_env["NEEDGRAPH_STORE"], api.root / "models")
        reloaded = api.post("/v1/model/reload", "admin")
        assert reloaded.status_code == 200, reloaded.text
    return trained
