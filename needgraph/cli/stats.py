"""``needgraph stats``: node and relationship counts of the configured store."""

from __future__ import annotations

from typing import Annotated

import typer

from needgraph.cli.common import print_json
from needgraph.graph.factory import open_store
from needgraph.ontology.versioning import current_version


def stats(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Print node counts by label and relationship counts by type."""
    with open_store() as store:
        store.ping()
        counts = store.counts()
        where = store.describe()
        record = current_version(store)
        version = record.version if record else None
    if as_json:
        print_json(
            {
                "store": where,
                "nodes": counts.nodes,
                "relationships": counts.relationships,
                "total_nodes": counts.total_nodes,
                "total_relationships": counts.total_relationships,
                "ontology_version": version,
            }
        )
        return
    typer.echo(f"store: {where}")
    typer.echo(f"ontology version: {version or 'none loaded (run: needgraph ontology load)'}")
    typer.echo(f"nodes: {counts.total_nodes:,}")
    for label, n in sorted(counts.nodes.items()):
        typer.echo(f"  {label:<14} {n:>12,}")
    typer.echo(f"relationships: {counts.total_relationships:,}")
    for rel_type, n in sorted(counts.relationships.items()):
        typer.echo(f"  {rel_type:<14} {n:>12,}")
