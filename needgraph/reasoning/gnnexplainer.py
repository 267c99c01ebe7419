"""PyG's GNNExplainer on the same model and star as needgraph's explanations (Q2's baseline).

The learned mask scales the star's edge weights (:meth:`StarScorer.score_masks`), so it runs on
exactly the same model; a probe ``MessagePassing`` layer exposes one edge per evidence item to
PyG's mask hooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from needgraph.reasoning.attribution import Context

#: GNNExplainer epochs (PyG's default).
GNNEXPLAINER_EPOCHS = 100


def gnnexplainer_weights(
    ctx: Context, c: int, domain: str, epochs: int = GNNEXPLAINER_EPOCHS
) -> list[float]:
    """PyG GNNExplainer's learned mask over the customer's evidence items (one per item).

    Args:
        ctx: Context (sparse architectures only: the mask must be differentiable).
        c: Customer index.
        domain: Domain id.
        epochs: GNNExplainer epochs.

    Returns:
        Mask values ``[len(evidence)]`` in (0, 1) for items on a cause path (the candidates, as
        for needgraph), 0 for the others.
    """
    import torch
    from torch_geometric.explain import Explainer
    from torch_geometric.explain.algorithm import GNNExplainer
    from torch_geometric.nn import MessagePassing

    scorer = ctx.scorer
    every = scorer.evidence(c)
    cand = [i for i, it in enumerate(every) if ctx.concepts.candidates(it, domain)]
    items = [every[i] for i in cand]
    d = scorer.domains.index(domain)
    m = len(items)
    if m == 0:
        return [0.0] * len(every)

    class _Probe(MessagePassing):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(aggr="add")

        # annotations must resolve in this module's globals (PyG inspects them): Any
        def forward(self, x: Any, edge_index: Any) -> Any:
            return self.propagate(edge_index, x=x)

        def message(self, x_j: Any) -> Any:
            return torch.ones_like(x_j[:, :1])

    class _Wrapper(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.probe = _Probe()

        def forward(self, x: Any, edge_index: Any) -> Any:
            kept = self.probe(x, edge_index)[1:, 0]  # [m]: the mask of each item's edge
            masks = {
                et: torch.ones(1, int(scorer.edges_of(c, et)[0].numel())) for et in scorer.in_types
            }
            for i, it in enumerate(items):
                row = masks[it.edge_type].clone()
                row[0, it.position] = kept[i]
                masks[it.edge_type] = row
            p, _ = scorer.score_masks(c, scorer.x[c].unsqueeze(0), masks)
            return p[:, d : d + 1]

    x = torch.ones(m + 1, 1)
    edge_index = torch.stack([torch.zeros(m, dtype=torch.long), torch.arange(1, m + 1)])
    explainer = Explainer(
        model=_Wrapper(),
        algorithm=GNNExplainer(epochs=epochs),
        explanation_type="model",
        edge_mask_type="object",
        model_config={"mode": "regression", "task_level": "graph", "return_type": "raw"},
    )
    exp = explainer(x, edge_index)
    out = [0.0] * len(every)
    for i, v in zip(cand, exp.edge_mask.tolist(), strict=True):
        out[i] = float(v)
    return out
