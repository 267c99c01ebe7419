"""Write one batch of customer records to a store in a single transaction, checkpoint included.

A batch holds nodes (customers, utterances, offers), plain relationships (upserts), tag edges
and ratings (which follow "latest observation wins"), and the job's checkpoint. It is handed to
:meth:`GraphStore.write_batch <needgraph.graph.base.GraphStore.write_batch>` as one
:class:`~needgraph.graph.batch.WriteBatch`: committed whole, with its checkpoint, or not at all,
so a job killed at any instant resumes exactly after its last committed batch.

Latest observation wins (``docs/graph-model.md``): a customer has at most one ``HAS_TAG`` per
tag and one ``RATED`` per domain. :class:`TagEdge` and :class:`RatingEdge` are the store's
:class:`~needgraph.graph.batch.LatestEdge` records (group: the tag's bin-key prefix
``<tag id>=``; for a rating none, the domain node itself). A new observation replaces the old
edge unless the old one is newer (``observed_at`` decides; equal or missing times: the later
row wins).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from needgraph.graph.base import GraphStore
from needgraph.graph.batch import LatestEdge, WriteBatch, newer_or_equal
from needgraph.graph.records import Node, NodeRef, Relationship

__all__ = ["BatchWriter", "GraphBatch", "RatingEdge", "TagEdge", "newer_or_equal", "writer_for"]


_REFS_LIMIT = 100_000  # node refs kept per label (a batch repeats each customer and bin)
_CUSTOMERS: dict[str, NodeRef] = {}
_BINS: dict[str, tuple[NodeRef, str]] = {}  # bin key -> its ref and its tag prefix
_DOMAINS: dict[str, NodeRef] = {}
_set = object.__setattr__  # how a frozen record sets its own fields (dataclasses does the same)


def _customer(key: str) -> NodeRef:
    if len(_CUSTOMERS) >= _REFS_LIMIT:
        _CUSTOMERS.clear()
    ref = _CUSTOMERS[key] = NodeRef("Customer", key)
    return ref


def _bin(key: str) -> tuple[NodeRef, str]:
    if len(_BINS) >= _REFS_LIMIT:
        _BINS.clear()
    found = _BINS[key] = (NodeRef("TagBin", key), key.split("=", 1)[0] + "=")
    return found


def _domain(key: str) -> NodeRef:
    if len(_DOMAINS) >= _REFS_LIMIT:
        _DOMAINS.clear()
    ref = _DOMAINS[key] = NodeRef("Domain", key)
    return ref


class TagEdge(LatestEdge):
    """A ``HAS_TAG`` edge subject to latest-wins: customer -> ``<tag>=<bin>``.

    A :class:`~needgraph.graph.batch.LatestEdge` whose group is the tag's bin-key prefix, so it
    goes to the store as it is (no copy per edge: a batch can hold a million).
    """

    __slots__ = ()

    def __init__(self, customer: str, bin_key: str, value: str | float,
                 observed_at: str | None) -> None:
        end, group = _BINS.get(bin_key) or _bin(bin_key)
        # the fields set directly (not through LatestEdge.__init__): a batch makes a million
        _set(self, "type", "HAS_TAG")
        _set(self, "start", _CUSTOMERS.get(customer) or _customer(customer))
        _set(self, "end", end)
        _set(self, "props", {"value": value, "observed_at": observed_at})
        _set(self, "group", group)

    @property
    def customer(self) -> str:
        """Customer id."""
        return self.start.key

    @property
    def bin_key(self) -> str:
        """``<tag id>=<bin id>``."""
        return self.end.key

    @property
    def value(self) -> str | float:
        """The raw value (float for numeric tags)."""
        return cast("str | float", self.props["value"])

    @property
    def observed_at(self) -> str | None:
        """When the value was observed (ISO-8601), or ``None``."""
        return cast("str | None", self.props["observed_at"])

    @property
    def tag_prefix(self) -> str:
        """``<tag id>=``: the key prefix every bin of this tag shares (the latest-wins group)."""
        return cast(str, self.group)


class RatingEdge(LatestEdge):
    """A ``RATED`` edge subject to latest-wins: customer -> domain (no group: one per domain)."""

    __slots__ = ()

    def __init__(self, customer: str, domain: str, score: float, observed_at: str | None) -> None:
        LatestEdge.__init__(
            self, "RATED", _CUSTOMERS.get(customer) or _customer(customer),
            _DOMAINS.get(domain) or _domain(domain),
            {"score": score, "observed_at": observed_at, "dissatisfied": score <= 2})

    @property
    def customer(self) -> str:
        """Customer id."""
        return self.start.key

    @property
    def domain(self) -> str:
        """Domain id."""
        return self.end.key

    @property
    def score(self) -> float:
        """Survey score (1-5)."""
        return cast(float, self.props["score"])

    @property
    def observed_at(self) -> str | None:
        """When the survey was answered (ISO-8601), or ``None``."""
        return cast("str | None", self.props["observed_at"])


@dataclass
class GraphBatch:
    """Everything one batch writes, plus the checkpoint committed with it."""

    nodes: list[Node] = field(default_factory=list)
    tag_edges: list[TagEdge] = field(default_factory=list)
    ratings: list[RatingEdge] = field(default_factory=list)
    rels: list[Relationship] = field(default_factory=list)
    checkpoint: tuple[str, str] | None = None

    def to_write_batch(self) -> WriteBatch:
        """The store's view of this batch: its tag edges and ratings are latest-wins edges."""
        meta = dict([self.checkpoint]) if self.checkpoint is not None else {}
        return WriteBatch(nodes=self.nodes, relationships=self.rels,
                          latest=[*self.tag_edges, *self.ratings], meta=meta)


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
