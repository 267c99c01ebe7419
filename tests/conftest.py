"""Shared fixtures: the ``store`` fixture runs a test once per backend (embedded SQLite, Neo4j).

Neo4j comes from ``NEO4J_URI``/``NEO4J_USERNAME``/``NEO4J_PASSWORD`` (``make test`` starts a real
server and exports them). When none answers, Neo4j tests skip on a developer machine but FAIL
under ``CI=true``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from needgraph.graph.base import GraphStore
from needgraph.graph.sqlite import SqliteStore
from needgraph.ontology.graph_schema import GRAPH_SCHEMA

REPO = Path(__file__).resolve().parents[1]
BACKENDS = ["sqlite", pytest.param("neo4j", marks=pytest.mark.neo4j)]

# Export caches of test stores go to a private folder (also for API servers started as
# subprocesses), never to the working tree's needgraph-data/cache.
os.environ.setdefault("NEEDGRAPH_CACHE_DIR", tempfile.mkdtemp(prefix="needgraph-test-cache-"))


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="session")
def neo4j_session_store() -> Iterator[GraphStore]:
    """One Neo4j store for the whole session (connection pools are expensive)."""
    from needgraph.errors import StoreUnavailableError
    from needgraph.graph.neo4j import Neo4jStore

    uri = os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687")
    store = Neo4jStore(
        uri,
        username=os.environ.get("NEO4J_USERNAME", os.environ.get("NEO4J_USER", "neo4j")),
        password=os.environ.get("NEO4J_PASSWORD", ""),
        database=os.environ.get("NEO4J_DATABASE", "neo4j"),
        schema=GRAPH_SCHEMA,
    )
    try:
        store.ping()
    except StoreUnavailableError as exc:
        store.close()
        message = f"Neo4j at {uri} is unreachable: {exc.detail}"
        if _in_ci():
            pytest.fail(f"{message} (CI=true: Neo4j tests must run, start it with make test)")
        pytest.skip(f"{message}; run `make test` to start one (under CI=true this fails)")
    store.setup_schema()
    yield store
    store.close()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    """An empty store of each backend."""
    if request.param == "sqlite":
        sqlite_store = SqliteStore(tmp_path / "graph.db", schema=GRAPH_SCHEMA)
        sqlite_store.setup_schema()
        yield sqlite_store
        sqlite_store.close()
        return
    neo4j_store: GraphStore = request.getfixturevalue("neo4j_session_store")
    neo4j_store.clear()
    yield neo4j_store
    neo4j_store.clear()
