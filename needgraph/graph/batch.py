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

    Raises:
        SchemaViolationError: An edge is not a :class:`LatestEdge`, its ``observed_at`` is not a
            string, its end key lies outside its group, or two edges to the same end node
            name different groups.
    """
    winners: dict[tuple[str | None, ...], LatestEdge] = {}
    groups: dict[str, set[str | None]] = defaultdict(set)  # type -> its groups
    for edge in edges:
        if type(edge) is not LatestEdge:
            raise SchemaViolationError("WriteBatch.latest takes LatestEdge records")
        group, start, end = edge.group, edge.start, edge.end
        when = edge.props.get(OBSERVED_AT)
        if when is not None and type(when) is not str:
            raise SchemaViolationError(
                f"{OBSERVED_AT} of latest-wins relationship {edge.type} {start}->{end} "
                f"must be an ISO-8601 string, got {type(when).__name__}")
        if group is None:
            slot: tuple[str | None, ...] = (edge.type, start.label, start.key, end.label, None,
                                            end.key)
        elif type(group) is str and group and end.key.startswith(group):
            slot = (edge.type, start.label, start.key, end.label, group)
        else:
            raise SchemaViolationError(
                f"latest-wins relationship {edge.type} {start}->{end}: group {group!r} "
                f"is not a non-empty prefix of its end key")
        groups[edge.type].add(group)
        held = winners.setdefault(slot, edge)
        if held is not edge and newer_or_equal(when, held.props.get(OBSERVED_AT)):  # type: ignore[arg-type]
            winners[slot] = edge
    kept = list(winners.values()) if len(winners) < len(edges) else list(edges)
    if _groups_may_overlap(groups):
        ends = {(e.type, e.start, e.end) for e in kept}
        if len(ends) != len(kept):
            raise SchemaViolationError(
                "two latest-wins relationships of one batch join the same nodes "
                "under different groups")
    return kept


def _groups_may_overlap(groups: dict[str, set[str | None]]) -> bool:
    """Whether two groups of one type could hold the same end node (a cheap, safe guess)."""
    for names in groups.values():
        if None in names:
            if len(names) > 1:
                return True
            continue
        ordered = sorted(g for g in names if g is not None)
        # a prefix sorts right before the strings that extend it: neighbours suffice
        if any(b.startswith(a) for a, b in pairwise(ordered)):
            return True
    return False
