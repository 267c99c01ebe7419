"""One atomic write: nodes, relationships, latest-wins relationships and metadata.

:meth:`GraphStore.write_batch <needgraph.graph.base.GraphStore.write_batch>` commits a
:class:`WriteBatch` in one transaction, in this order: node upserts, latest-wins relationship
upserts, plain relationship upserts, metadata entries. Either all of it is committed or none.

Latest observation wins (``docs/graph-model.md``). A :class:`LatestEdge` is a relationship plus
the *group* it competes in: among the start node's relationships of the same type whose end
node has the same label,

* ``group`` is a string: those whose end key starts with ``group`` (e.g. ``"tag.x="``: at most
  one ``HAS_TAG`` edge per tag, whatever bin it points to);
* ``group`` is ``None``: only the relationship to the very same end node (e.g. ``RATED`` to one
  domain). A prefix would be wrong here: ``domain.tv`` is a prefix of ``domain.tv_plus``.

The new relationship replaces every relationship of its group (the others are deleted, its own
properties are merged like an upsert) unless one of them has a newer ``observed_at`` property,
in which case the new one is ignored. ``observed_at`` values are ISO-8601 strings compared as
strings; a missing one is the oldest; on equal times the new relationship wins. Within a batch
the same rule picks one relationship per group (equal times: the later one).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from itertools import pairwise

from needgraph.errors import SchemaViolationError
from needgraph.graph.records import Node, Relationship

OBSERVED_AT = "observed_at"


@dataclass(frozen=True, slots=True)
class LatestEdge(Relationship):
    """A :class:`Relationship` written under "latest observation wins", plus its group.

    Its ``observed_at`` property (ISO string, or absent) decides. ``group`` is the end-key
    prefix of the relationships it competes with (its own end key must start with it), or
    ``None`` for the relationship to the same end node only. One record per edge rather than a
    relationship wrapped in another: a batch can hold a million edges.
    """

    group: str | None = None


@dataclass
class WriteBatch:
    """Everything one :meth:`~needgraph.graph.base.GraphStore.write_batch` call commits.

    Attributes:
        nodes: Node upserts (properties merged; within the batch a later duplicate wins).
        relationships: Plain relationship upserts (properties merged).
        latest: Latest-wins relationship upserts (a :class:`LatestEdge` in ``relationships``
            is refused: there it would be a plain upsert).
        meta: Metadata entries (e.g. a job checkpoint), committed with the rest.
    """

    nodes: list[Node] = field(default_factory=list)
    relationships: list[Relationship] = field(default_factory=list)
    latest: list[LatestEdge] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)


def newer_or_equal(new: str | None, old: str | None) -> bool:
    """Whether an observation at ``new`` replaces one at ``old`` (ISO strings; None is oldest)."""
    return (new or "") >= (old or "")


def reduce_latest(edges: list[LatestEdge]) -> list[LatestEdge]:
    """Check latest-wins edges and keep one per group and start node (the rule, in order).

    The hot loop of a batch (a million edges): edges are filed per (type, start, end label),
    a run of edges of one start node (the usual order) costs one lookup for the run.

    Raises:
        SchemaViolationError: An edge is not a :class:`LatestEdge`, its ``observed_at`` is not a
            string, its end key lies outside its group, or two edges to the same end node
            name different groups.
    """
    # (type, start label, start key, end label) -> {group, or (end key,) without one: edge}
    filed: dict[tuple[str, str, str, str], dict[object, LatestEdge]] = {}
    slots: dict[object, LatestEdge] = {}
    last_start = last_type = last_label = None
    replaced = 0
    observed = OBSERVED_AT
    for edge in edges:
        if not isinstance(edge, LatestEdge):
            raise SchemaViolationError("WriteBatch.latest takes LatestEdge records")
        rel_type, group, start, end = edge.type, edge.group, edge.start, edge.end
        when = edge.props.get(observed)
        if when is not None and type(when) is not str:
            raise SchemaViolationError(
                f"{OBSERVED_AT} of latest-wins relationship {rel_type} {start}->{end} "
                f"must be an ISO-8601 string, got {type(when).__name__}")
        slot: object
        if group is None:
            slot = (end.key,)
        elif type(group) is str and group and end.key.startswith(group):
            slot = group
        else:
            raise SchemaViolationError(
                f"latest-wins relationship {rel_type} {start}->{end}: group {group!r} "
                f"is not a non-empty prefix of its end key")
        label = end.label
        if start is not last_start or rel_type is not last_type or label is not last_label:
            key = (rel_type, start.label, start.key, label)
            found = filed.get(key)
            if found is None:
                found = filed[key] = {}
            slots, last_start, last_type, last_label = found, start, rel_type, label
        held = slots.setdefault(slot, edge)
        if held is not edge:
            replaced += 1
            if newer_or_equal(when, held.props.get(observed)):  # type: ignore[arg-type]
                slots[slot] = edge
    if _groups_may_overlap(filed):
        ends = [(e.type, e.start, e.end) for found in filed.values() for e in found.values()]
        if len(set(ends)) != len(ends):
            raise SchemaViolationError(
                "two latest-wins relationships of one batch join the same nodes "
                "under different groups")
    if not replaced:
        return list(edges)
    return [edge for found in filed.values() for edge in found.values()]


def _groups_may_overlap(filed: dict[tuple[str, str, str, str], dict[object, LatestEdge]]) -> bool:
    """Whether two groups of one type and end label could hold the same end node."""
    shapes: dict[tuple[str, str], set[object]] = defaultdict(set)
    for (rel_type, _, _, end_label), found in filed.items():
        shapes[(rel_type, end_label)].update(found)
    for slots in shapes.values():
        groups = sorted(slot for slot in slots if type(slot) is str)
        if not groups:
            continue  # end nodes only: one edge per end node
        if len(groups) < len(slots):
            return True  # groups and end nodes mixed
        # a prefix sorts right before the strings that extend it: neighbours suffice
        if any(b.startswith(a) for a, b in pairwise(groups)):
            return True
    return False
