"""Column-wise relationship batches: the bulk read path of the store -> tensor export.

``GraphStore.iter_relationship_columns`` (:mod:`needgraph.graph.base`) streams one relationship
type as :class:`RelationshipColumns`: every batch holds relationships of one ``(start label, end
label)`` pair, as parallel lists of endpoint keys and of the few property values the caller asked
for. Backends answer it without building a :class:`~needgraph.graph.records.Relationship` (and
decoding every property) per row, which is what made exporting tens of millions of ``HAS_TAG``
edges slow; :func:`to_columns` is the generic fallback on top of ``iter_relationships``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from needgraph.errors import SchemaViolationError
from needgraph.graph.records import PropertyValue, Relationship

_PROPERTY_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class RelationshipColumns:
    """One batch of relationships of one type and one label pair, column-wise.

    Args:
        type: Relationship type.
        start_label: Label of every start node.
        end_label: Label of every end node.
        start_keys: Start node key per relationship, length ``n``.
        end_keys: End node key per relationship, length ``n``.
        props: Requested property name -> value per relationship (``None`` where absent), each
            of length ``n``; values are what the stored properties hold (JSON types kept).
    """

    type: str
    start_label: str
    end_label: str
    start_keys: list[str]
    end_keys: list[str]
    props: dict[str, list[PropertyValue]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.start_keys)


def check_property_names(names: Sequence[str]) -> tuple[str, ...]:
    """Return ``names`` as a tuple after checking each is a plain property name.

    Raises:
        SchemaViolationError: A name that is not ``[a-z_][a-z0-9_]*`` (it would be spliced into
            a JSON path or a Cypher projection).
    """
    for name in names:
        if not isinstance(name, str) or not _PROPERTY_NAME.match(name):
            raise SchemaViolationError(
                f"property name {name!r} is not a plain lower-case identifier",
                hint="Ask for properties by their stored names, e.g. 'value' or 'weight'.",
            )
    return tuple(dict.fromkeys(names))


def to_columns(
    batches: Iterable[list[Relationship]], props: Sequence[str]
) -> Iterator[RelationshipColumns]:
    """Regroup record batches (of one type) into column batches, one per label pair.

    Args:
        batches: Batches from ``iter_relationships``.
        props: Property names to carry.

    Yields:
        Per input batch, one :class:`RelationshipColumns` per ``(start, end)`` label pair in
        first-seen order.
    """
    for batch in batches:
        groups: dict[tuple[str, str], RelationshipColumns] = {}
        for rel in batch:
            pair = (rel.start.label, rel.end.label)
            cols = groups.get(pair)
            if cols is None:
                cols = RelationshipColumns(
                    rel.type, pair[0], pair[1], [], [], {p: [] for p in props}
                )
                groups[pair] = cols
            cols.start_keys.append(rel.start.key)
            cols.end_keys.append(rel.end.key)
            for p in props:
                cols.props[p].append(rel.props.get(p))
        yield from groups.values()
