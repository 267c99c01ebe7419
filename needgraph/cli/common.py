"""Helpers shared by CLI commands: error reporting the user can act on, JSON output."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from needgraph.errors import NeedgraphError

#: ``--min-confidence`` of the commands that report causes (``explain``, ``evaluate``).
MinConfidenceOption = Annotated[
    float,
    typer.Option(
        "--min-confidence",
        min=0.0,
        max=1.0,
        help="Smallest confidence (0-1) of a reported cause (default 0.7); higher: fewer, surer "
        "causes; 0.5: more, less sure ones.",
    ),
]


def run_guarded(app: typer.Typer) -> None:
    """Run the CLI; a :class:`NeedgraphError` prints its detail and hint and exits with 1."""
    try:
        from needgraph.logs import configure_logging

        configure_logging()
        app()
    except NeedgraphError as exc:
        typer.secho(f"error: {exc.detail}", fg=typer.colors.RED, err=True)
        if exc.hint:
            typer.echo(f"fix: {exc.hint}", err=True)
        sys.exit(1)


def print_json(data: Any) -> None:
    """Print ``data`` as one JSON document on stdout."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))
