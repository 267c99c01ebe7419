"""``needgraph ingest PATH``: load customer tags, texts, offers and labels into the store.

Registered in :mod:`needgraph.cli` like ``stats``: ``app.command("ingest")(ingest)``. The
module's own :data:`app` holds the same command (for running it on its own).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

import typer

from needgraph.cli.common import print_json

app = typer.Typer(
    name="ingest",
    help="Ingest customer tags, texts, strategies/outcomes and satisfaction labels.",
    add_completion=False,
    pretty_exceptions_enable=False,
)

KindOption = Literal["tags", "text", "strategies", "labels"]


def ingest(
    path: Annotated[Path, typer.Argument(
        help="A CSV/Parquet/JSONL file, or a folder (its mapping.yaml is used when present).",
        exists=True, resolve_path=True)],
    kind: Annotated[KindOption | None, typer.Option(
        "--kind", help="Only this record kind (for a file without mapping: its kind).")] = None,
    mapping: Annotated[Path | None, typer.Option(
        "--mapping", help="Mapping YAML (see docs/ingest.md).", exists=True, dir_okay=False)]
    = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Continue each job after its last committed batch.")] = False,
    no_labels: Annotated[bool, typer.Option(
        "--no-labels", help="Withhold labels (held-out customers are ingested unlabelled).")]
    = False,
    encoding: Annotated[str | None, typer.Option(
        "--encoding", help="Encoding of the input (default: detected; gbk reads as gb18030).")]
    = None,
    report_dir: Annotated[Path, typer.Option(
        "--report-dir", help="Folder for the job report (JSON) and quarantine (JSONL) files.")]
    = Path("needgraph-data/ingest"),
    batch_size: Annotated[int | None, typer.Option(
        "--batch-size", min=1, help="Rows per committed batch (default NEEDGRAPH_BATCH_SIZE).")]
    = None,
    no_progress: Annotated[bool, typer.Option(
        "--no-progress", help="No progress bar or progress log lines (NEEDGRAPH_PROGRESS=0).")]
    = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the job reports as JSON.")]
    = False,
) -> None:
    """Ingest PATH into the configured store (the ontology must be loaded first)."""
    from needgraph.config import get_settings
    from needgraph.graph.factory import open_store
    from needgraph.ingest.jobs import JobOptions, run_ingest

    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)  # schema-less warnings
    settings = get_settings()
    options = JobOptions(
        batch_size=batch_size or settings.batch_size,
        resume=resume,
        withhold_labels=no_labels,
        report_dir=report_dir,
        progress=False if no_progress else None,
    )
    with open_store() as store:
        store.ping()
        reports = run_ingest(store, path, mapping=mapping, kind=kind, encoding=encoding,
                             options=options)
    if as_json:
        print_json({"jobs": [r.to_dict() for r in reports]})
        return
    for report in reports:
        typer.echo(report.summary())
    if not reports:
        typer.echo("nothing to ingest")


app.command("ingest")(ingest)
