"""``needgraph ontology``: validate, export, import, load, deprecate, merge, history.

Commands are thin: the logic lives in :mod:`needgraph.ontology`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from needgraph.errors import NeedgraphError
from needgraph.ontology.core import Ontology
from needgraph.ontology.errors import OntologyValidationError
from needgraph.ontology.files import (
    default_ontology_path,
    export_text,
    read_ontology,
    write_ontology,
)
from needgraph.ontology.problems import Problem
from needgraph.ontology.validate import validate

if TYPE_CHECKING:
    from needgraph.graph.base import GraphStore

app = typer.Typer(
    name="ontology",
    help="Curate the ontology: validate, export/import (YAML, Turtle, JSON), load, version.",
    no_args_is_help=True,
    add_completion=False,
)


class ExportFormat(StrEnum):
    """Forms ``export`` can write."""

    turtle = "turtle"
    yaml = "yaml"
    json = "json"


PathArg = Annotated[
    Path | None,
    typer.Argument(help="Ontology folder or file (default: $NEEDGRAPH_ONTOLOGY or ontology/)."),
]
Who = Annotated[str, typer.Option("--who", help="Who makes the change (audit trail).")]
Why = Annotated[str, typer.Option("--why", help="Why (audit trail).")]
Write = Annotated[
    bool, typer.Option("--write", help="Write the changed ontology back to the YAML files.")
]
AllowInvalid = Annotated[
    bool, typer.Option("--allow-invalid", help="Write even if validation finds problems.")
]


def _default_path() -> Path:
    try:
        from needgraph.config import get_settings

        settings = get_settings()
        if "ontology_path" in settings.model_fields_set:
            return settings.ontology_path
    except (ImportError, NeedgraphError):
        pass
    return default_ontology_path()


def _fail(problems: list[Problem]) -> NoReturn:
    for problem in problems:
        typer.echo(str(problem), err=True)
    typer.secho(f"{len(problems)} problem(s)", fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _read(path: Path | None, allow_invalid: bool = False) -> Ontology:
    ontology = read_ontology(path if path is not None else _default_path())
    problems = validate(ontology)
    if ontology.provenance.problems or (problems and not allow_invalid):
        _fail(problems)
    for problem in problems:
        typer.echo(f"warning: {problem}", err=True)
    return ontology


@contextmanager
def _store() -> Iterator[GraphStore]:
    from needgraph.graph.factory import open_store

    with open_store() as store:
        try:
            yield store
        except OntologyValidationError as exc:
            _fail(exc.problems)


@app.command("validate")
def validate_command(path: PathArg = None) -> None:
    """Print every problem (FILE:LINE: code, concept, message, fix); exit 1 if there is any."""
    ontology = read_ontology(path if path is not None else _default_path())
    problems = validate(ontology)
    if problems:
        _fail(problems)
    counts = ontology.counts()
    typer.echo(f"{ontology.manifest.name} {ontology.manifest.version}: no problems")
    for kind, count in sorted(counts.items()):
        typer.echo(f"  {kind:<10} {count:>6}")
    typer.echo(f"  {'total':<10} {len(ontology):>6}")


@app.command("export")
def export_command(
    form: Annotated[ExportFormat, typer.Option("--format", "-f", help="Output form.")],
    path: PathArg = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="File (default: stdout).")] = None,
    allow_invalid: AllowInvalid = False,
) -> None:
    """Export the ontology as Turtle (SKOS/OWL), one YAML document, or JSON."""
    text = export_text(_read(path, allow_invalid), form.value)
    if out is None:
        sys.stdout.write(text)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    typer.echo(f"wrote {out}", err=True)


@app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A .ttl, .json or .yaml file.")],
    out: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="Folder for the YAML files (default: stdout)."),
    ] = None,
    allow_invalid: AllowInvalid = False,
) -> None:
    """Read Turtle, JSON or YAML, validate it, and write the YAML form."""
    from needgraph.ontology.io_yaml import write_yaml_dir

    ontology = _read(file, allow_invalid)
    if out is None:
        sys.stdout.write(export_text(ontology, "yaml"))
        return
    for written in write_yaml_dir(ontology, out):
        typer.echo(f"wrote {written}", err=True)


@app.command("load")
def load_command(who: Who, why: Why, path: PathArg = None) -> None:
    """Load the ontology into the configured store and record a version (no-op if unchanged)."""
    from needgraph.ontology.loader import load_into_store

    ontology = _read(path)
    with _store() as store:
        report = load_into_store(ontology, store, who=who, why=why)
    if not report.changed:
        typer.echo(f"the store already holds {report.version} ({report.content_hash[:12]}); no-op")
        return
    typer.echo(
        f"loaded {report.version} ({report.content_hash[:12]}): {report.nodes_written} nodes, "
        f"{report.relationships_written} relationships, "
        f"{report.relationships_removed} stale relationships removed"
    )
    if report.deleted:
        typer.echo(f"deleted (gone from the ontology, unused): {', '.join(report.deleted)}")
    if report.kept:
        typer.secho(
            f"kept (gone from the ontology but customer data uses them; deprecate or merge "
            f"them): {', '.join(report.kept)}",
            fg=typer.colors.YELLOW,
        )


def _changed(
    path: Path | None, op: str, source: str, target: str, who: str, why: str, write: bool
) -> None:
    from needgraph.ontology import changes
    from needgraph.ontology.io_yaml import write_yaml_dir

    ontology = _read(path)
    with _store() as store:
        if op == "merge":
            result = changes.merge(store, ontology, source, target, who, why)
        else:
            result = changes.deprecate(store, ontology, source, target, who, why)
    typer.echo(
        f"{op}: {source} -> {target}; {result.relinked} relationships moved; "
        f"the store now holds {result.report.version}"
    )
    root = Path(ontology.provenance.root or "")
    if write:
        files = write_yaml_dir(result.ontology, root) if root.is_dir() else None
        for written in files or write_ontology(result.ontology, root):
            typer.echo(f"wrote {written}", err=True)
    else:
        typer.echo("the files are unchanged; run again with --write, or edit them to match")


@app.command("deprecate")
def deprecate_command(
    concept: Annotated[str, typer.Argument(help="Id of the concept to deprecate.")],
    replaced_by: Annotated[str, typer.Argument(help="Id of the concept that replaces it.")],
    who: Who,
    why: Why,
    path: Annotated[Path | None, typer.Option("--path", help="Ontology folder.")] = None,
    write: Write = False,
) -> None:
    """Deprecate a concept; move its customer data to the replacement; bump the patch version."""
    _changed(path, "deprecate", concept, replaced_by, who, why, write)


@app.command("merge")
def merge_command(
    source: Annotated[str, typer.Argument(help="Id of the concept that goes away.")],
    target: Annotated[str, typer.Argument(help="Id of the surviving concept.")],
    who: Who,
    why: Why,
    path: Annotated[Path | None, typer.Option("--path", help="Ontology folder.")] = None,
    write: Write = False,
) -> None:
    """Merge a concept into another (every relationship moves); bump the patch version."""
    _changed(path, "merge", source, target, who, why, write)


@app.command("history")
def history_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the audit trail as JSON.")] = False,
) -> None:
    """Print the version the store holds and its audit trail (oldest first)."""
    from needgraph.cli.common import print_json
    from needgraph.ontology.versioning import audit_trail, current_version

    with _store() as store:
        current, trail = current_version(store), audit_trail(store)
    if as_json:
        print_json(
            {
                "current": current.model_dump(mode="json") if current else None,
                "audit": [r.model_dump(mode="json") for r in trail],
            }
        )
        return
    if current is None:
        typer.echo("the store holds no ontology yet (run `needgraph ontology load`)")
        return
    typer.echo(f"current: {current.version} ({current.content_hash[:12]})")
    for r in trail:
        d = r.diff
        typer.echo(
            f"{r.version:<10} {r.when}  {r.operation:<9} {r.who}: {r.why} "
            f"(+{len(d.added)} -{len(d.removed)} ~{len(d.changed)})"
        )
