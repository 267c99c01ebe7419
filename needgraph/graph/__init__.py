"""Graph stores: one interface (:class:`GraphStore`), an embedded SQLite backend and Neo4j."""

from needgraph.graph.base import GraphStore
from needgraph.graph.records import (
    GraphCounts,
    Node,
    NodeRef,
    Path,
    PathStep,
    Relationship,
    Subgraph,
)

__all__ = [
    "GraphCounts",
    "GraphStore",
    "Node",
    "NodeRef",
    "Path",
    "PathStep",
    "Relationship",
    "Subgraph",
]
