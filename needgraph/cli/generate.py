"""``needgraph generate``: write a synthetic operator dataset with planted ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from needgraph.cli.common import print_json


def generate(
    customers: Annotated[
        int, typer.Option("--customers", "-n", min=0, help="Number of customers to draw.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output folder (dataset files are overwritten).")
    ],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same bytes).")] = 0,
    label_rate: Annotated[
        float,
        typer.Option(
            "--label-rate",
            min=0.0,
            max=1.0,
            help="Share of customers whose survey scores are published.",
        ),
    ] = 0.8,
    ontology: Annotated[
        Path | None,
        typer.Option("--ontology", help="Ontology folder or file (default: the shipped one)."),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option("--chunk-size", min=1, help="Customers drawn and held at once.")
    ] = 50_000,
    progress: Annotated[
        bool | None,
        typer.Option(
            "--progress/--no-progress", help="Progress bar (default: only on a terminal)."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON summary.")] = False,
) -> None:
    """Write a realistic synthetic dataset (tags, texts, offers, labels) with planted truth.

    Files: customers_tags.csv, tags_long.csv, texts.jsonl, offers.csv, labels.csv, mapping.yaml
    (ingest them with `needgraph ingest DIR`), plus truth.jsonl and truth_model.json.
    """
    from needgraph.ingest.generator import generate_dataset

    summary = generate_dataset(
        out,
        customers,
        seed,
        label_rate=label_rate,
        ontology=ontology,
        chunk_size=chunk_size,
        progress=progress,
    )
    if as_json:
        print_json(summary.to_data())
        return
    counts = summary.counts
    typer.echo(
        f"wrote {summary.customers:,} customers to {summary.out} in {summary.seconds:.1f}s: "
        f"{counts.get('texts', 0):,} texts, {counts.get('offers', 0):,} offers, "
        f"{counts.get('labels', 0):,} labels, {counts.get('long_rows', 0):,} long tag rows"
    )
