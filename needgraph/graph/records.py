"""Plain value types that cross the store interface.

Nodes are identified by ``(label, key)``; relationships by ``(type, start, end)`` where start and
end are node identities. Properties are flat maps of primitives or homogeneous lists of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

Primitive: TypeAlias = str | int | float | bool
PropertyValue: TypeAlias = Primitive | list[str] | list[int] | list[float] | list[bool] | None
Properties: TypeAlias = dict[str, PropertyValue]
Direction: TypeAlias = Literal["out", "in", "both"]


@dataclass(frozen=True, slots=True)
class NodeRef:
    """Identity of a node: its label and its key (unique within the label)."""

    label: str
    key: str

    def __str__(self) -> str:
        return f"({self.label} {self.key!r})"


@dataclass(frozen=True, slots=True)
class Node:
    """A node with its properties (the key is not repeated inside ``props``)."""

    label: str
    key: str
    props: Properties = field(default_factory=dict)

    @property
    def ref(self) -> NodeRef:
        """The node's identity."""
        return NodeRef(self.label, self.key)


@dataclass(frozen=True, slots=True)
class Relationship:
    """A directed, typed relationship between two nodes, unique per (type, start, end)."""

    type: str
    start: NodeRef
    end: NodeRef
    props: Properties = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class PathStep:
    """One hop of a typed path pattern: follow ``type`` in ``direction`` from the previous node."""

    type: str
    direction: Direction = "out"


@dataclass(frozen=True, slots=True)
class Path:
    """A walk through the graph: ``len(nodes) == len(relationships) + 1``."""

    nodes: tuple[Node, ...]
    relationships: tuple[Relationship, ...]


@dataclass(frozen=True, slots=True)
class Subgraph:
    """Nodes and relationships around a centre node (a k-hop neighbourhood)."""

    centre: NodeRef
    nodes: tuple[Node, ...]
    relationships: tuple[Relationship, ...]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """Relationships leaving some nodes, with the end nodes of the labels asked for.

    Attributes:
        relationships: The relationships, in the order they were written.
        ends: End nodes with their properties, only those of the labels asked for.
    """

    relationships: tuple[Relationship, ...]
    ends: dict[NodeRef, Node] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GraphCounts:
    """Node counts per label and relationship counts per type."""

    nodes: dict[str, int]
    relationships: dict[str, int]

    @property
    def total_nodes(self) -> int:
        """Number of nodes over all labels."""
        return sum(self.nodes.values())

    @property
    def total_relationships(self) -> int:
        """Number of relationships over all types."""
        return sum(self.relationships.values())
