"""The star pass of a GraphSAGE member in closed form: the same numbers as its modules, fewer calls.

:meth:`StarScorer.head_outputs <needgraph.reasoning.star.StarScorer.head_outputs>` re-runs a
member on variants of one customer's star. Run through the member's modules, that is a few hundred
small torch calls (PyG's ``SAGEConv.propagate`` checks and collects its inputs on each), and at a
few dozen variants the calls, not the arithmetic, are the cost: they were about two thirds of an
explanation's CPU at 100k customers.

For ``sage`` members (the default architecture) the customer's round is, in eval mode::

    h' = h + relu(norm(root(h) + sum_r lin_r(A_r @ H_r)))

with one ``SAGEConv`` (sum aggregation, no root weight of its own) per relation ``r`` into
customers. Each ``lin_r`` is linear, so the root and every relation's weights are stacked side by
side once, and a round becomes: ``A_r @ H_r`` per relation, one concatenation, one ``addmm``, the
norm, ReLU and the residual. The "wide" state is the customer's input state plus the same first
round's ``A_r @ H_r`` (the sources' input states), and the head is two ``addmm``. The customer's
input map is applied to one row and to the few feature columns that differ between variants.

:class:`SageStarKernel` refuses a member whose modules it does not mirror exactly (another
architecture, a ``SAGEConv`` with its own root weight, projection or normalisation, a non-summing
``HeteroConv``, a head of another shape) with :class:`StarKernelUnsupportedError`; the scorer
then keeps the module path. ``tests/reasoning/test_star_kernel.py`` checks that both give the
same outputs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from torch import Tensor, nn

    from needgraph.reasoning.model import SatisfactionGNN

EdgeType = tuple[str, str, str]


class StarKernelUnsupportedError(ValueError):
    """The member is not one :class:`SageStarKernel` computes exactly (the message says why)."""


class SageStarKernel:
    """A ``sage`` member's star pass with its weights stacked once (see module docstring).

    Args:
        member: A trained member in eval mode.
        in_types: The relations into customers the star carries, in the scorer's order.

    Raises:
        StarKernelUnsupportedError: The member is not a plain ``sage`` member.
    """

    def __init__(self, member: SatisfactionGNN, in_types: Sequence[EdgeType]) -> None:
        import torch
        from torch import nn

        cfg = member.config
        if cfg.arch != "sage":
            raise StarKernelUnsupportedError(
                f"architecture {cfg.arch!r} (the kernel mirrors 'sage')"
            )
        if "customer" not in member.lin_in:
            raise StarKernelUnsupportedError("customers have no dense input features")
        if member.training:
            raise StarKernelUnsupportedError("the member is in training mode (dropout on)")
        self.in_types = list(in_types)
        self.normalise = getattr(cfg, "customer_aggr", "mean") == "mean"
        lin_in = member.lin_in["customer"]
        assert isinstance(lin_in, nn.Linear)
        with torch.no_grad():
            self.w_in = lin_in.weight.detach().t().contiguous()  # [f, d]
            self.b_in = _bias(lin_in, lin_in.out_features)
            self.label = member.lin_label
            self.rounds: list[tuple[Tensor, Tensor, nn.Module]] = []
            for lay, conv in enumerate(member.convs):
                self.rounds.append(self._round(member, lay, conv))
            self.head = _head(member.head)

    def _round(self, member: SatisfactionGNN, lay: int, conv: nn.Module) -> tuple[
            Tensor, Tensor, nn.Module]:
        """``(stacked weights [d * (1 + r), d], summed bias [d], norm)`` of round ``lay``."""
        import torch
        from torch import nn
        from torch_geometric.nn import HeteroConv, SAGEConv

        if not isinstance(conv, HeteroConv) or conv.aggr != "sum":
            raise StarKernelUnsupportedError(f"round {lay}: not a summing HeteroConv")
        roots, norms = member.roots[lay], member.norms[lay]
        assert isinstance(roots, nn.ModuleDict) and isinstance(norms, nn.ModuleDict)
        root = roots["customer"]
        assert isinstance(root, nn.Linear)
        weights, bias = [root.weight.detach()], _bias(root, root.out_features).clone()
        for et in self.in_types:
            if et not in conv.convs:
                raise StarKernelUnsupportedError(f"round {lay}: no convolution for relation {et}")
            sage = conv.convs[et]
            if not isinstance(sage, SAGEConv):
                raise StarKernelUnsupportedError(f"round {lay}, {et}: {type(sage).__name__}")
            if sage.root_weight or sage.project or sage.normalize or str(sage.aggr) != "sum":
                raise StarKernelUnsupportedError(
                    f"round {lay}, {et}: SAGEConv with root_weight={sage.root_weight}, "
                    f"project={sage.project}, normalize={sage.normalize}, aggr={sage.aggr!r}"
                )
            weights.append(sage.lin_l.weight.detach())
            if sage.lin_l.bias is not None:
                bias += sage.lin_l.bias.detach()
        stacked = torch.cat(weights, dim=1).t().contiguous()
        return stacked, bias, norms["customer"]

    def forward(
        self,
        x: Tensor,
        sources: Sequence[Tensor],
        weights: Mapping[EdgeType, Tensor],
        states: Sequence[Mapping[str, Tensor]],
        labels: Tensor | None = None,
    ) -> Tensor:
        """Raw head outputs of the star's variants, ``[v, n_domains * HEAD_WIDTH]``.

        Args:
            x: The customer's features per variant, ``[v, f]``.
            sources: Per relation of ``in_types``, the source node indices ``[k_r]``.
            weights: Per relation, the edge weights per variant ``[v, k_r]`` (0 = edge removed).
            states: The member's cached layer states of every node type, per round.
            labels: The customer's label-trick inputs, ``[1, d * 6]`` (``None``: no label trick).
        """
        import torch

        v = x.shape[0]
        base = x[:1]
        h0 = torch.addmm(self.b_in, base, self.w_in)  # [1, d]
        differ = (x != base).any(0).nonzero().flatten()
        if differ.numel():
            h0 = h0 + (x[:, differ] - base[:, differ]) @ self.w_in[differ]
        else:
            h0 = h0.expand(v, -1)
        if self.label is not None and labels is not None:
            h0 = h0 + self.label(labels)
        adj = []
        for et in self.in_types:
            ww = weights[et]
            adj.append(ww / ww.sum(1, keepdim=True).clamp_min(1e-12) if self.normalise else ww)
        cur, wide = h0, h0
        for lay, (stacked, bias, norm) in enumerate(self.rounds):
            layer = states[lay]
            parts = [a @ layer[et[0]][src] for a, et, src in zip(
                adj, self.in_types, sources, strict=True)]
            if lay == 0:  # the wide state sums the sources' input states: the same products
                for part in parts:
                    wide = wide + part
            update = torch.addmm(bias, torch.cat([cur, *parts], dim=1), stacked)
            cur = cur + torch.relu(norm(update))
        w1, b1, w2, b2 = self.head
        hidden = torch.relu(torch.addmm(b1, torch.cat([cur, wide], dim=1), w1))
        return torch.addmm(b2, hidden, w2)


def _bias(linear: nn.Linear, width: int) -> Tensor:
    """A linear map's bias, or zeros when it has none."""
    import torch

    return linear.bias.detach() if linear.bias is not None else torch.zeros(width)


def _head(head: nn.Module) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """``(w1 [2d, d], b1, w2 [d, out], b2)`` of ``Linear, ReLU, Dropout, Linear``."""
    from torch import nn

    layers = list(head.children()) if isinstance(head, nn.Sequential) else []
    kinds = [type(m) for m in layers]
    if kinds != [nn.Linear, nn.ReLU, nn.Dropout, nn.Linear]:
        raise StarKernelUnsupportedError(f"head {[k.__name__ for k in kinds]}")
    first, last = layers[0], layers[3]
    assert isinstance(first, nn.Linear) and isinstance(last, nn.Linear)
    return (first.weight.detach().t().contiguous(), _bias(first, first.out_features),
            last.weight.detach().t().contiguous(), _bias(last, last.out_features))
