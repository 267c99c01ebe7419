"""Tensors that grow by appended rows without copying themselves each time.

Events append rows to the served graph: a new utterance to the utterance features and to every
cached layer state, a new customer to the customer tensors. ``torch.cat`` copies the whole
tensor for each append (at 100k customers a complaint text copied ~13 MB of utterance features
plus the states, ~2.5 ms per event in each worker, and more as utterances accumulate). A
:class:`RowBuffers` keeps spare rows behind each tensor it grew, so an append writes only the new
rows until the spare runs out, then grows the buffer by a fraction of its size (amortised cost
per row independent of the tensor's length).

A grown tensor is a prefix view of its buffer. Only buffers this object allocated are written
past a tensor's end (it holds them, so their memory cannot be another tensor's), and only when
the tensor is the longest prefix of that buffer handed out so far; anything else is copied into a
new buffer first. Views handed out before an append keep their rows and length.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor

__all__ = ["RowBuffers"]


class RowBuffers:
    """Spare rows behind appended-to tensors (one per served graph context).

    Args:
        spare: Spare rows allocated on growth, as a fraction of the new length.
        minimum: Spare rows allocated on growth at least.
    """

    def __init__(self, spare: float = 0.25, minimum: int = 256) -> None:
        if spare < 0 or minimum < 1:
            raise ValueError(f"spare must be >= 0 and minimum >= 1, got {spare!r}, {minimum!r}")
        self.spare = spare
        self.minimum = minimum
        #: Address of a buffer's first byte -> the buffer (held, so the address stays unique)
        #: and the rows of its longest prefix handed out.
        self._buffers: dict[int, tuple[Tensor, int]] = {}
        #: Buffers allocated so far (a test's and a benchmark's view of the growth).
        self.allocations = 0

    def append(self, tensor: Tensor, rows: Tensor) -> Tensor:
        """``torch.cat([tensor, rows])``, writing into spare rows when ``tensor`` has them.

        Args:
            tensor: ``[n, *shape]``, the tensor to grow (unchanged; views of it stay valid).
            rows: ``[k, *shape]`` of ``tensor``'s dtype, the rows to append.

        Returns:
            ``[n + k, *shape]``: ``tensor``'s rows, then ``rows``.

        Raises:
            ValueError: ``rows`` has another row shape or dtype.
        """
        import torch

        if rows.shape[1:] != tensor.shape[1:] or rows.dtype != tensor.dtype:
            raise ValueError(f"cannot append rows of shape {tuple(rows.shape)} ({rows.dtype}) "
                             f"to a tensor of shape {tuple(tensor.shape)} ({tensor.dtype})")
        n, k = int(tensor.shape[0]), int(rows.shape[0])
        if k == 0:
            return tensor
        if rows[0].numel() == 0:  # zero-width rows: nothing to copy
            return torch.cat([tensor, rows])
        held = self._buffers.get(tensor.data_ptr()) if n else None
        if held is not None:
            buffer, used = held
            if (n == used and n + k <= buffer.shape[0] and tensor.storage_offset() == 0
                    and tensor.stride() == buffer.stride()):
                grown = buffer[: n + k]
                grown[n:] = rows
                self._buffers[buffer.data_ptr()] = (buffer, n + k)
                return grown
            if n == used:  # full: this buffer is replaced by a larger one
                del self._buffers[tensor.data_ptr()]
        capacity = n + k + max(self.minimum, int(self.spare * (n + k)))
        buffer = tensor.new_empty((capacity, *tensor.shape[1:]))
        buffer[:n] = tensor
        buffer[n : n + k] = rows
        self._buffers[buffer.data_ptr()] = (buffer, n + k)
        self.allocations += 1
        return buffer[: n + k]
