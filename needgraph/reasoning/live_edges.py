"""Where each customer's edges sit in the exported graph, and in-place updates of them.

A relation's edges (``customer -has_tag-> tag_bin`` and its reverse) live in one edge tensor per
direction, a customer's edges scattered through it (the export keeps the store's order; both
directions share it). A live event that changes how many edges a customer has (a tag it lacked,
a tag removed) used to rebuild both tensors with a mask and a concatenation: at 100k customers,
17.6M ``HAS_TAG`` edges, ~1.6 s per event. :class:`CustomerEdges` instead:

* maps a customer to the positions of its edges, in the star scorer's order (a stable sort of
  the customer row, taken once), plus the positions of customers whose edges have since moved;
* keeps each edge tensor as a view of a buffer with room at its end: extra edges are written
  there; slots of removed edges are filled with edges from the tail (their customers' positions
  updated) and the view shrinks. Both directions get the same moves, so they stay aligned.

An update costs O(edges of the customer) instead of O(edges of the graph). The order of other
customers' edges in the tensors changes when tail edges move: full-graph passes sum them in a
different order (float rounding); their star predictions read the scorer's index and do not
change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor
    from torch_geometric.data import HeteroData

    from needgraph.reasoning.features import EdgeType

#: Spare room added when a buffer grows: 1/64 of its size (at least 1,024 edges).
_GROWTH_SHARE = 64
_MIN_GROWTH = 1024
_ATTRS = ("edge_index", "edge_weight", "edge_attr")


class CustomerEdges:
    """Positions of each customer's ``fwd`` edges in the graph's tensors (both directions).

    ``of(c)[i]`` is the position of the customer's ``i``-th edge in the star scorer's order (the
    order of :meth:`StarScorer.edges_of <needgraph.reasoning.star.StarScorer.edges_of>` over the
    reverse type), in the forward and in the reverse tensors alike.

    Args:
        data: The exported graph.
        fwd: A ``customer -> X`` edge type; its reverse ``X -> customer`` is kept aligned.
    """

    def __init__(self, data: HeteroData, fwd: EdgeType) -> None:
        import torch

        self.fwd = fwd
        self.rev: EdgeType = (fwd[2], f"rev_{fwd[1]}", fwd[0])
        self.types = [et for et in (fwd, self.rev) if et in data.edge_types]
        row = data[fwd].edge_index[0] if fwd in self.types else data[self.rev].edge_index[1]
        self.size = int(row.numel())
        ascending = self.size < 2 or bool((row[1:] >= row[:-1]).all())
        self.order: Tensor | None = None if ascending else torch.argsort(row, stable=True)
        ranked = row if self.order is None else row[self.order]
        customers = int(data["customer"].num_nodes)
        self.ptr = torch.searchsorted(ranked, torch.arange(customers + 1))
        self.moved: dict[int, Tensor] = {}
        #: Per edge type, attribute -> the full buffer its tensor is a view of.
        self.buffers: dict[EdgeType, dict[str, Tensor]] = {
            et: {a: data[et][a] for a in _ATTRS if a in data[et]} for et in self.types
        }

    # -- lookups ---------------------------------------------------------------------------
    def of(self, c: int) -> Tensor:
        """Positions ``[k]`` of customer ``c``'s edges (empty for a customer with none)."""
        import torch

        got = self.moved.get(c)
        if got is not None:
            return got
        if c + 1 >= int(self.ptr.numel()):  # appended after this index was built
            return torch.zeros(0, dtype=torch.long)
        lo, hi = int(self.ptr[c]), int(self.ptr[c + 1])
        if self.order is None:
            return torch.arange(lo, hi)
        return self.order[lo:hi]

    def current(self, data: HeteroData) -> bool:
        """Whether the graph's tensors are still the views this index wrote (else: rebuild)."""
        for et in self.types:
            for attr, buf in self.buffers[et].items():
                t = data[et].get(attr)
                if t is None or t.untyped_storage().data_ptr() != buf.untyped_storage().data_ptr():
                    return False
                if t.shape[-1 if attr == "edge_index" else 0] != self.size:
                    return False
        return True

    # -- updates ---------------------------------------------------------------------------
    def replace(self, data: HeteroData, c: int, dst: Tensor, weight: Tensor,
                attr: Tensor | None) -> None:
        """Make customer ``c``'s edges ``dst`` ``[m]`` (weights ``[m]``, attributes ``[m, a]``).

        The first ``min(k, m)`` of its ``k`` current slots are rewritten in place; extra edges go
        to the end; freed slots are filled from the tail. Afterwards ``of(c)`` lists the new
        edges in the given order.
        """
        import torch

        slots = self.of(c)
        k, m = int(slots.numel()), int(dst.numel())
        keep = slots[: min(k, m)]
        mine = torch.cat([keep, torch.arange(self.size, self.size + max(m - k, 0))])
        if m > k:
            self._resize(data, self.size + m - k)
        self._write(data, mine, c, dst, weight, attr)
        self.moved[c] = mine
        if m < k:
            self._fill(data, slots[m:])

    def _write(self, data: HeteroData, at: Tensor, c: int, dst: Tensor, weight: Tensor,
               attr: Tensor | None) -> None:
        for et in self.types:
            store = data[et]
            own = 0 if et == self.fwd else 1
            store.edge_index[own, at] = c
            store.edge_index[1 - own, at] = dst
            if "edge_weight" in store:
                store.edge_weight[at] = weight.to(store.edge_weight.dtype)
            if "edge_attr" in store and attr is not None:
                store.edge_attr[at] = attr.to(store.edge_attr.dtype)

    def _fill(self, data: HeteroData, holes: Tensor) -> None:
        """Free the slots ``holes``: move tail edges into those below the new end; shrink."""
        end = self.size - int(holes.numel())
        gone = set(holes.tolist())
        targets = sorted(h for h in gone if h < end)
        sources = [p for p in range(end, self.size) if p not in gone]
        if targets:
            import torch

            src, to = torch.tensor(sources), torch.tensor(targets)
            first = self.types[0]
            row = data[first].edge_index[0 if first == self.fwd else 1]
            owners = row[src].tolist()
            for et in self.types:
                store = data[et]
                for attr in _ATTRS:
                    if attr in store:
                        t = store[attr]
                        if attr == "edge_index":
                            t[:, to] = t[:, src]
                        else:
                            t[to] = t[src]
            for d, s, h in zip(owners, sources, targets, strict=True):
                pos = self.of(d).clone()
                pos[pos == s] = h
                self.moved[d] = pos
        self._resize(data, end)

    def reserve(self, data: HeteroData) -> None:
        """Give the buffers room for more edges now (a copy of every edge), not on an event."""
        self._resize(data, self.size, grow=True)

    def _resize(self, data: HeteroData, size: int, grow: bool = False) -> None:
        """Set the tensors to the first ``size`` edges of their buffers (growing those if full)."""
        import torch

        for et in self.types:
            for attr, buf in self.buffers[et].items():
                axis = 1 if attr == "edge_index" else 0
                if buf.shape[axis] < size or (grow and buf.shape[axis] == size):
                    room = size + max(size // _GROWTH_SHARE, _MIN_GROWTH)
                    shape = list(buf.shape)
                    shape[axis] = room
                    grown = torch.zeros(shape, dtype=buf.dtype)
                    grown.narrow(axis, 0, self.size).copy_(buf.narrow(axis, 0, self.size))
                    self.buffers[et][attr] = buf = grown
                data[et][attr] = buf.narrow(axis, 0, size)
        self.size = size


def customer_edges(placements: dict[EdgeType, CustomerEdges], data: HeteroData,
                   fwd: EdgeType) -> CustomerEdges:
    """The current :class:`CustomerEdges` of ``fwd`` in ``placements`` (built or rebuilt here).

    Rebuilt when something else replaced the graph's tensors since the last update.
    """
    found = placements.get(fwd)
    if found is None or not found.current(data):
        found = placements[fwd] = CustomerEdges(data, fwd)
    return found
