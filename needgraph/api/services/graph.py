"""Nodes and paged neighbourhoods over the store's public API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from needgraph.errors import NodeNotFoundError
from needgraph.graph.base import GraphStore
from needgraph.graph.records import Direction, Node, NodeRef, Relationship


@dataclass(frozen=True)
class NeighbourhoodPage:
    """One page of a neighbourhood.

    Attributes:
        centre: The centre node.
        nodes: The page's nodes, ordered by label then key.
        relationships: Relationships of the neighbourhood with an end on this page.
        total: Nodes collected (besides the centre).
        truncated: Whether the collection stopped at the cap (``total`` is then a lower bound).
    """

    centre: Node
    nodes: list[Node]
    relationships: list[Relationship]
    total: int
    truncated: bool


def split_names(values: Sequence[str] | None) -> list[str] | None:
    """Accept ``a,b`` as well as repeated parameters; ``None`` when nothing is left."""
    if not values:
        return None
    names = [part.strip() for value in values for part in value.split(",") if part.strip()]
    return names or None


def get_node(store: GraphStore, label: str, key: str) -> Node:
    """Return the node ``(label, key)``.

    Raises:
        UnknownLabelError: ``label`` is not in the graph schema (422).
        MissingKeyError: ``key`` is blank (422).
        NodeNotFoundError: No such node (404).
    """
    ref = NodeRef(label, key)
    node = store.get_node(ref)
    if node is None:
        raise NodeNotFoundError(f"node {ref} does not exist", label=label, key=key)
    return node


def neighbourhood_page(
    store: GraphStore,
    label: str,
    key: str,
    *,
    hops: int,
    rel_types: Sequence[str] | None,
    labels: Sequence[str] | None,
    direction: Direction,
    limit: int,
    offset: int,
    cap: int,
) -> NeighbourhoodPage:
    """Collect up to ``cap`` nodes around ``(label, key)`` and return one page of them.

    Raises:
        UnknownLabelError, UnknownRelationshipTypeError: A filter names something the graph
            schema does not have (422, naming it).
        NodeNotFoundError: The centre does not exist (404).
    """
    centre = get_node(store, label, key)
    sub = store.neighbourhood(
        centre.ref,
        hops=hops,
        node_labels=labels,
        rel_types=rel_types,
        direction=direction,
        limit=cap,
    )
    ordered = sorted(sub.nodes, key=lambda n: (n.label, n.key))
    nodes = ordered[offset : offset + limit]
    on_page = {n.ref for n in nodes}
    relationships = sorted(
        (r for r in sub.relationships if r.start in on_page or r.end in on_page),
        key=lambda r: (r.type, r.start.label, r.start.key, r.end.label, r.end.key),
    )
    return NeighbourhoodPage(
        centre=centre,
        nodes=nodes,
        relationships=relationships,
        total=len(ordered),
        truncated=len(ordered) >= cap,
    )
