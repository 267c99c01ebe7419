"""The graph schema: which node labels and relationship types a store accepts.

The allow-list itself comes from the ontology package (:mod:`needgraph.ontology.graph_schema`);
this module only defines its shape and the checks every backend runs before writing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from needgraph.errors import (
    MissingKeyError,
    SchemaViolationError,
    UnknownLabelError,
    UnknownRelationshipTypeError,
    UnsupportedPropertyError,
)
from needgraph.graph.records import Node, NodeRef, Properties, Relationship

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_PROPERTY_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")
RESERVED_PROPERTIES = frozenset({"key"})
_SCALARS = frozenset({str, int, bool, type(None)})


@dataclass(frozen=True)
class RelationshipSpec:
    """A relationship type with the labels it may start and end at."""

    type: str
    start_labels: frozenset[str]
    end_labels: frozenset[str]
    description: str = ""


@dataclass(frozen=True)
class GraphSchema:
    """Allow-list of node labels and relationship types.

    Args:
        labels: Node labels with a one-line description each.
        relationships: Relationship specs by type.
    """

    labels: Mapping[str, str]
    relationships: Mapping[str, RelationshipSpec]

    def __post_init__(self) -> None:
        for name in [*self.labels, *self.relationships]:
            if not _IDENTIFIER.match(name):
                raise ValueError(f"schema name {name!r} is not a plain identifier")
        for spec in self.relationships.values():
            for label in spec.start_labels | spec.end_labels:
                if label not in self.labels:
                    raise ValueError(f"relationship {spec.type} names unknown label {label!r}")

    def check_label(self, label: str) -> None:
        """Raise :class:`UnknownLabelError` unless ``label`` is allowed."""
        if label not in self.labels:
            raise UnknownLabelError(
                f"node label {label!r} is not in the graph schema",
                hint=f"Use one of: {', '.join(sorted(self.labels))}.",
            )

    def check_type(self, rel_type: str) -> RelationshipSpec:
        """Return the spec of ``rel_type`` or raise :class:`UnknownRelationshipTypeError`."""
        spec = self.relationships.get(rel_type)
        if spec is None:
            raise UnknownRelationshipTypeError(
                f"relationship type {rel_type!r} is not in the graph schema",
                hint=f"Use one of: {', '.join(sorted(self.relationships))}.",
            )
        return spec

    def check_node(self, node: Node) -> None:
        """Validate a node's label, key and properties."""
        self.check_label(node.label)
        check_key(node.ref)
        check_properties(node.props, f"node {node.ref}")

    def check_relationship(self, rel: Relationship) -> None:
        """Validate a relationship's type, its endpoint labels and keys, and its properties."""
        spec = self.check_type(rel.type)
        check_key(rel.start)
        check_key(rel.end)
        if rel.start.label not in spec.start_labels or rel.end.label not in spec.end_labels:
            raise UnknownRelationshipTypeError(
                f"relationship {rel.type} cannot go from {rel.start.label} to {rel.end.label}",
                hint=(
                    f"{rel.type} goes from {sorted(spec.start_labels)} "
                    f"to {sorted(spec.end_labels)}."
                ),
            )
        check_properties(rel.props, f"relationship {rel.type} {rel.start}->{rel.end}")

    def check_nodes(self, nodes: Iterable[Node]) -> None:
        """:meth:`check_node` for many nodes, fast: the same checks, with the same errors."""
        labels = self.labels
        names: set[str] = set()
        for node in nodes:
            if type(node) is not Node or not (
                node.label in labels and _plain_key(node.key)
                and _plain_properties(node.props, names)
            ):
                if not isinstance(node, Node):
                    raise SchemaViolationError("nodes must be Node records")
                self.check_node(node)  # raises the precise error (or finds nothing wrong)

    def check_relationships(self, rels: Iterable[Relationship]) -> None:
        """:meth:`check_relationship` for many, fast: the same checks, with the same errors.

        The hot loop of a batch (a million edges): a shape (type and endpoint labels) is checked
        once, a property name once; anything unusual takes :meth:`check_relationship`.
        """
        shapes: set[tuple[str, str, str]] = set()
        names: set[str] = set()
        scalars = _SCALARS
        for rel in rels:
            if isinstance(rel, Relationship):
                start, end = rel.start, rel.end
                a, b = start.key, end.key
                if (
                    (rel.type, start.label, end.label) in shapes
                    and type(a) is str and a and not a.isspace()
                    and type(b) is str and b and not b.isspace()
                ):
                    for name, value in rel.props.items():
                        if name not in names:
                            break
                        kind = type(value)
                        if kind in scalars or (kind is float and math.isfinite(value)):  # type: ignore[arg-type]
                            continue
                        if kind is float or not _is_supported(value):
                            break
                    else:
                        continue
            if not isinstance(rel, Relationship):
                raise SchemaViolationError("relationships must be Relationship records")
            self.check_relationship(rel)  # raises the precise error, or all is fine
            _plain_properties(rel.props, names)  # remember the property names
            shapes.add((rel.type, rel.start.label, rel.end.label))


def check_key(ref: NodeRef) -> None:
    """Raise :class:`MissingKeyError` unless ``ref.key`` is a non-empty string."""
    if not isinstance(ref.key, str) or not ref.key.strip():
        raise MissingKeyError(f"node of label {ref.label!r} has no key (got {ref.key!r})")


def check_properties(props: Properties, where: str) -> None:
    """Raise :class:`UnsupportedPropertyError` for the first property a store cannot hold.

    Args:
        props: Property map to check.
        where: Human description of the owner, used in the message.
    """
    for name, value in props.items():
        if not isinstance(name, str) or not _PROPERTY_NAME.match(name):
            raise UnsupportedPropertyError(
                f"property name {name!r} on {where} is not snake_case",
                hint="Property names are lower-case snake_case identifiers.",
            )
        if name in RESERVED_PROPERTIES:
            raise UnsupportedPropertyError(
                f"property {name!r} on {where} is reserved",
                hint="The key is given as the record's key, not as a property.",
            )
        if not _is_supported(value):
            raise UnsupportedPropertyError(
                f"property {name!r} on {where} has unsupported value of type "
                f"{type(value).__name__}: {str(value)[:60]!r}"
            )


def _plain_key(key: object) -> bool:
    """Fast :func:`check_key`: a non-blank string."""
    return isinstance(key, str) and bool(key) and not key.isspace()


def _plain_properties(props: Properties, names: set[str]) -> bool:
    """Fast :func:`check_properties`: ``True`` when every property surely passes it.

    ``names`` holds property names already found valid (filled as a side effect).
    """
    for name, value in props.items():
        if name not in names:
            if not isinstance(name, str) or not _PROPERTY_NAME.match(name):
                return False
            if name in RESERVED_PROPERTIES:
                return False
            names.add(name)
        kind = type(value)
        if kind in _SCALARS:
            continue
        if kind is float:
            if math.isfinite(value):  # type: ignore[arg-type]
                continue
            return False
        if not _is_supported(value):
            return False
    return True


def _is_supported(value: object) -> bool:
    if value is None or isinstance(value, str | bool | int):
        return True
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, list):
        if not value:
            return True
        kinds = {bool if isinstance(v, bool) else type(v) for v in value}
        if len(kinds) != 1 or kinds.pop() not in (str, int, float, bool):
            return False
        return all(not isinstance(v, float) or math.isfinite(v) for v in value)
    return False
