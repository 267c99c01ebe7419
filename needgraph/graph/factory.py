"""Open the store the settings name, importing only the backend that is used."""

from __future__ import annotations

from needgraph.config import Settings, get_settings
from needgraph.graph.base import GraphStore
from needgraph.graph.schema import GraphSchema


def open_store(settings: Settings | None = None, schema: GraphSchema | None = None) -> GraphStore:
    """Open the configured graph store.

    Args:
        settings: Settings to use; the process-wide settings when ``None``.
        schema: Allow-list to enforce; needgraph's graph schema when ``None``.

    Returns:
        An open store; close it (or use it as a context manager) when done.
    """
    settings = settings or get_settings()
    if schema is None:
        from needgraph.ontology.graph_schema import GRAPH_SCHEMA

        schema = GRAPH_SCHEMA
    if settings.store_kind == "sqlite":
        from needgraph.graph.sqlite import SqliteStore

        return SqliteStore(settings.sqlite_path, schema=schema)
    from needgraph.graph.neo4j import Neo4jStore

    return Neo4jStore(
        settings.resolved_neo4j_uri,
        username=settings.neo4j_username,
        password=settings.neo4j_password.get_secret_value(),
        database=settings.neo4j_database,
        schema=schema,
    )
