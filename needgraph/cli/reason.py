"""``needgraph explain`` / ``recommend`` / ``drivers``: thin commands over the reasoning library.

They need a trained model file (``--model``, default ``$NEEDGRAPH_MODEL``): a ``torch.save`` of a
:class:`~needgraph.reasoning.train.SatisfactionModel` (or of ``{"model": ..., "data": ...}``).
The graph is re-exported from the configured store with the model's feature schema.
torch is imported only when a command runs.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Annotated, Any

import typer

from needgraph.cli.common import print_json
from needgraph.graph.factory import open_store

if TYPE_CHECKING:
    from needgraph.graph.base import GraphStore

ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="Trained model file (default: $NEEDGRAPH_MODEL)."),
]
DomainOption = Annotated[
    str, typer.Option("--domain", help="Domain id, e.g. domain.home_broadband.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def load_model(path: str | None, store: GraphStore) -> tuple[Any, Any]:
    """Load a saved model and export the store's graph with its schema.

    Args:
        path: Model file (``None``: ``$NEEDGRAPH_MODEL``).
        store: Open store.

    Returns:
        ``(model, data)``.
    """
    import torch

    from needgraph.reasoning.export import export_graph

    target = path or os.environ.get("NEEDGRAPH_MODEL")
    if not target:
        raise typer.BadParameter("no trained model: pass --model or set NEEDGRAPH_MODEL")
    obj = torch.load(target, weights_only=False)
    model = obj["model"] if isinstance(obj, dict) else obj
    data, _ = export_graph(store, model.schema)
    return model, data


def explain_command(
    customer: Annotated[str, typer.Argument(help="Customer id.")],
    domain: DomainOption,
    lang: Annotated[str, typer.Option("--lang", help="zh or en.")] = "en",
    k: Annotated[int, typer.Option("-k", help="Paths to show.")] = 3,
    model_path: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why is CUSTOMER predicted (dis)satisfied with a domain: the top paths."""
    from needgraph.reasoning.explain import explain

    with open_store() as store:
        model, data = load_model(model_path, store)
        result = explain(store, model, data, customer, domain, k=k, lang=lang)
    if as_json:
        print_json(result.to_dict())
        return
    typer.echo(result.sentence)
    for i, path in enumerate(result.paths, 1):
        typer.echo(f"  {i}. [{path.share:.0%}] {path.sentence}")


def recommend_command(
    customer: Annotated[str, typer.Argument(help="Customer id.")],
    domain: DomainOption,
    k: Annotated[int, typer.Option("-k", help="Actions to return.")] = 3,
    lang: Annotated[str, typer.Option("--lang", help="zh or en.")] = "en",
    cost_aware: Annotated[
        bool, typer.Option("--cost-aware", help="Rank by change per cost.")
    ] = False,
    model_path: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Top-k eligible strategies for CUSTOMER, ranked by expected uplift."""
    from needgraph.reasoning.recommend import recommend

    with open_store() as store:
        model, data = load_model(model_path, store)
        actions = recommend(
            store, model, data, customer, domain, k=k, cost_aware=cost_aware, lang=lang
        )
    if as_json:
        print_json(
            {"customer": customer, "domain": domain, "actions": [a.to_dict() for a in actions]}
        )
        return
    if not actions:
        typer.echo("no eligible strategy")
    for i, a in enumerate(actions, 1):
        typer.echo(f"  {i}. {a.sentence}")


def drivers_command(
    domain: DomainOption,
    segment: Annotated[str | None, typer.Option("--segment", help="Segment id.")] = None,
    k: Annotated[int, typer.Option("-k", help="Drivers to show.")] = 10,
    model_path: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Causes driving predicted dissatisfaction with a domain over a segment."""
    from needgraph.reasoning.drivers import drivers

    with open_store() as store:
        model, data = load_model(model_path, store)
        found = drivers(store, model, data, domain, segment, k=k)
    if as_json:
        print_json({"domain": domain, "segment": segment, "drivers": [d.to_dict() for d in found]})
        return
    for d in found:
        typer.echo(
            f"  {d.cause:<40} {d.contribution:.4f} [{d.low:.4f}, {d.high:.4f}]"
            f"  affected {d.share_affected:.0%} of {d.customers}"
        )
