"""Neo4j reads are auto-committed; one the server asks to retry runs again and answers."""

from __future__ import annotations

from typing import Any

import pytest

from needgraph.graph.base import GraphStore
from needgraph.graph.records import Node, NodeRef


@pytest.mark.neo4j
def test_a_read_the_server_asks_to_retry_runs_again(
    neo4j_session_store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from neo4j import READ_ACCESS
    from neo4j.exceptions import TransientError

    store: Any = neo4j_session_store
    store.clear()
    store.upsert_nodes([Node("Domain", "domain.overall", {"label_en": "Overall"})])
    real_session = store._driver.session
    refused: list[str] = []

    def session(**kwargs: Any) -> Any:
        opened = real_session(**kwargs)
        if kwargs.get("default_access_mode") == READ_ACCESS and not refused:

            def run(query: str, *args: Any, **more: Any) -> Any:
                refused.append(query)
                raise TransientError("simulated: the database is busy, retry")

            opened.run = run
        return opened

    monkeypatch.setattr(store._driver, "session", session)
    found = store.get_node(NodeRef("Domain", "domain.overall"))
    assert found is not None and found.props == {"label_en": "Overall"}
    assert len(refused) == 1  # the auto-committed read was refused once, then ran again
    assert store.get_meta("no-such-entry") is None  # later reads auto-commit as before
    assert len(refused) == 1
    monkeypatch.undo()
    store.clear()
