"""``needgraph explain`` / ``recommend`` / ``drivers``: thin commands over the reasoning runtime.

They open a trained model with :meth:`~needgraph.reasoning.runtime.Reasoner.open` (``--model``,
else ``$NEEDGRAPH_MODEL``, else the newest artifact of ``$NEEDGRAPH_MODEL_DIR``), which checks it
against the configured store and exports the graph with the model's feature schema.
torch is imported only when a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from needgraph.cli.common import MinConfidenceOption, print_json
from needgraph.graph.factory import open_store
from needgraph.reasoning.causes import MIN_CONFIDENCE

ModelOption = Annotated[
    str | None,
    typer.Option(
        "--model", help="Model artifact (default: $NEEDGRAPH_MODEL, else the newest trained)."
    ),
]
DomainOption = Annotated[
    str, typer.Option("--domain", help="Domain id, e.g. domain.home_broadband.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]


def explain_command(
    customer: Annotated[str, typer.Argument(help="Customer id.")],
    domain: DomainOption,
    lang: Annotated[str, typer.Option("--lang", help="zh or en.")] = "en",
    k: Annotated[int, typer.Option("-k", help="Paths to show.")] = 3,
    min_confidence: MinConfidenceOption = MIN_CONFIDENCE,
    model_path: ModelOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why is CUSTOMER predicted (dis)satisfied with a domain: the top paths."""
    from needgraph.reasoning.runtime import Reasoner

    with open_store() as store:
        result = Reasoner.open(store, model_path).explain(
            customer, domain, k=k, lang=lang, min_confidence=min_confidence
        )
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
    from needgraph.reasoning.runtime import Reasoner

    with open_store() as store:
        reasoner = Reasoner.open(store, model_path)
        actions = reasoner.recommend(customer, domain, k=k, cost_aware=cost_aware, lang=lang)
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
    from needgraph.reasoning.runtime import Reasoner

    with open_store() as store:
        found = Reasoner.open(store, model_path).drivers(domain, segment, k=k)
    if as_json:
        print_json({"domain": domain, "segment": segment, "drivers": [d.to_dict() for d in found]})
        return
    for d in found:
        typer.echo(
            f"  {d.cause:<40} {d.contribution:.4f} [{d.low:.4f}, {d.high:.4f}]"
            f"  affected {d.share_affected:.0%} of {d.customers}"
        )
