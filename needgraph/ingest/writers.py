"""Write one batch of customer records to a store in a single transaction, checkpoint included.

A batch holds nodes (customers, utterances, offers), plain relationships (upserts), tag edges
and ratings (which follow "latest observation wins"), and the job's checkpoint. It is handed to
:meth:`GraphStore.write_batch <needgraph.graph.base.GraphStore.write_batch>` as one
:class:`~needgraph.graph.batch.WriteBatch`: committed whole, with its checkpoint, or not at all,
so a job killed at any instant resumes exactly after its last committed batch.

Latest observation wins (``docs/graph-model.md``): a customer has at most one ``HAS_TAG`` per
tag (the latest-wins group is the tag's bin-key prefix ``<tag id>=``) and one ``RATED`` per
domain (no group: the domain node itself). A new observation replaces the old edge unless the
old one is newer (``observed_at`` decides; equal or missing times: the later row wins).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from needgraph.graph.base import GraphStore
from needgraph.graph.batch import LatestEdge, WriteBatch, newer_or_equal
from needgraph.graph.records import Node, NodeRef, Properties, Relationship

__all__ = ["BatchWriter", "GraphBatch", "RatingEdge", "TagEdge", "newer_or_equal", "writer_for"]


@dataclass(frozen=True, slots=True)
class TagEdge:
    """A ``HAS_TAG`` edge subject to latest-wins: customer -> ``<tag>=<bin>``."""

    customer: str
    bin_key: str
    value: str | float
    observed_at: str | None

    @property
    def tag_prefix(self) -> str:
        """``<tag id>=``: the key prefix every bin of this tag shares."""
        return self.bin_key.split("=", 1)[0] + "="

    def props(self) -> Properties:
        """Edge properties."""
        return {"value": self.value, "observed_at": self.observed_at}


@dataclass(frozen=True, slots=True)
class RatingEdge:
    """A ``RATED`` edge subject to latest-wins: customer -> domain."""

    customer: str
    domain: str
    score: float
    observed_at: str | None

    def props(self) -> Properties:
        """Edge properties."""
        return {"score": self.score, "observed_at": self.observed_at,
                "dissatisfied": self.score <= 2}


@dataclass
class GraphBatch:
    """Everything one batch writes, plus the checkpoint committed with it."""

    nodes: list[Node] = field(default_factory=list)
    tag_edges: list[TagEdge] = field(default_factory=list)
    ratings: list[RatingEdge] = field(default_factory=list)
    rels: list[Relationship] = field(default_factory=list)
    checkpoint: tuple[str, str] | None = None

    def to_write_batch(self) -> WriteBatch:
        """The store's view of this batch: tag edges and ratings become latest-wins edges."""
        # one NodeRef per node and one group per bin: a batch repeats them many times
        customers = {key: NodeRef("Customer", key) for key in
                     {e.customer for e in self.tag_edges} | {r.customer for r in self.ratings}}
        bins = {edge.bin_key: edge for edge in self.tag_edges}
        ends = {key: NodeRef("TagBin", key) for key in bins}
        groups = {key: edge.tag_prefix for key, edge in bins.items()}
        latest = [
            LatestEdge("HAS_TAG", customers[e.customer], ends[e.bin_key],
                       {"value": e.value, "observed_at": e.observed_at}, groups[e.bin_key])
            for e in self.tag_edges
        ]
        latest += [
            LatestEdge("RATED", customers[r.customer], NodeRef("Domain", r.domain), r.props())
            for r in self.ratings
        ]
        meta = dict([self.checkpoint]) if self.checkpoint is not None else {}
        return WriteBatch(nodes=self.nodes, relationships=self.rels, latest=latest, meta=meta)


class BatchWriter:
    """Writes :class:`GraphBatch` objects to one store (any backend)."""

    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def write(self, batch: GraphBatch) -> None:
        """Check, then write ``batch`` in one transaction."""
        self.store.write_batch(batch.to_write_batch())


def writer_for(store: GraphStore) -> BatchWriter:
    """Return the batch writer of ``store``."""
    return BatchWriter(store)
