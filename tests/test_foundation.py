"""Foundation facts a user relies on: compose file, settings, CLI, and lazy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import yaml

from needgraph.config import Settings
from needgraph.errors import ConfigError
from tests.conftest import REPO


def test_compose_runs_pinned_neo4j_with_healthcheck_and_api():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    neo4j = compose["services"]["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert "NEO4J_PASSWORD" in neo4j["environment"]["NEO4J_AUTH"]
    assert "healthcheck" in neo4j and neo4j["healthcheck"]["test"]
    mounts = {v.split(":")[1] for v in neo4j["volumes"]}
    assert {"/data", "/logs"} <= mounts
    api = compose["services"]["api"]
    assert api["build"] == "."
    assert api["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert (REPO / "Dockerfile").exists()


def test_settings_pick_backend_from_store_uri(monkeypatch):
    monkeypatch.delenv("NEEDGRAPH_STORE", raising=False)
    assert Settings().store_kind == "sqlite"
    assert Settings(NEEDGRAPH_STORE="neo4j://cluster:7687").store_kind == "neo4j"
    settings = Settings(NEEDGRAPH_STORE="neo4j", NEO4J_URI="bolt://h:1", NEO4J_USER="alice")
    assert settings.resolved_neo4j_uri == "bolt://h:1"
    assert settings.neo4j_username == "alice"
    assert "s3cr3t" not in repr(Settings(NEO4J_PASSWORD="s3cr3t"))


def test_settings_refuse_unknown_store_and_placeholder_secret_in_prod():
    with pytest.raises(ConfigError, match="postgres://x"):
        Settings(NEEDGRAPH_STORE="postgres://x")
    with pytest.raises(ConfigError, match="NEO4J_PASSWORD"):
        Settings(NEEDGRAPH_ENV="prod", NEEDGRAPH_STORE="neo4j", NEO4J_PASSWORD="changeme")
    assert Settings(NEEDGRAPH_ENV="dev", NEEDGRAPH_STORE="neo4j", NEO4J_PASSWORD="").store_kind


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "needgraph", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        cwd=REPO,
        timeout=120,
    )


def test_stats_cli_counts_embedded_store(tmp_path):
    from needgraph.graph.records import Node
    from needgraph.graph.sqlite import SqliteStore
    from needgraph.ontology.graph_schema import GRAPH_SCHEMA

    db = tmp_path / "g.db"
    with SqliteStore(db, schema=GRAPH_SCHEMA) as s:
        s.upsert_nodes([Node("Customer", "c1"), Node("Customer", "c2"), Node("Cause", "x")])
    out = _cli("stats", "--json", env={"NEEDGRAPH_STORE": f"sqlite:///{db}"})
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["nodes"] == {"Customer": 2, "Cause": 1}
    assert doc["total_relationships"] == 0
    text = _cli("stats", env={"NEEDGRAPH_STORE": f"sqlite:///{db}"})
    assert "Customer" in text.stdout and "2" in text.stdout


def test_cli_reports_bad_config_with_fix_not_traceback():
    out = _cli("stats", env={"NEEDGRAPH_STORE": "mysql://nope"})
    assert out.returncode == 1
    assert "mysql://nope" in out.stderr and "fix:" in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.neo4j
def test_stats_cli_against_neo4j(neo4j_session_store):
    neo4j_session_store.clear()
    from needgraph.graph.records import Node

    neo4j_session_store.upsert_nodes([Node("Domain", "domain.overall")])
    env = {"NEEDGRAPH_STORE": "neo4j"}
    out = _cli("stats", "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["nodes"] == {"Domain": 1}
    neo4j_session_store.clear()


def test_importing_needgraph_and_embedded_store_loads_no_heavy_modules():
    code = (
        "import sys, needgraph, needgraph.graph.sqlite, needgraph.graph.factory, needgraph.cli;"
        "heavy = [m for m in ('torch', 'spacy', 'sentence_transformers', 'neo4j', 'fastapi')"
        " if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
