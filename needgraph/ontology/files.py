"""Read and write an ontology in any of its three forms (YAML, Turtle, JSON)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, TypeAlias

from needgraph.ontology.core import Ontology
from needgraph.ontology.errors import OntologyFormatError
from needgraph.ontology.io_json import dumps_json, read_json
from needgraph.ontology.io_turtle import dumps_turtle, read_turtle
from needgraph.ontology.io_yaml import dump_yaml, read_yaml, write_yaml_dir

Format: TypeAlias = Literal["yaml", "turtle", "json"]
FORMATS: tuple[Format, ...] = ("yaml", "turtle", "json")
ONTOLOGY_ENV = "NEEDGRAPH_ONTOLOGY"
_SUFFIXES: dict[str, Format] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".ttl": "turtle",
    ".turtle": "turtle",
    ".json": "json",
}


def default_ontology_path() -> Path:
    """Return the ontology to use when none is named.

    ``$NEEDGRAPH_ONTOLOGY`` when set; else the ``ontology/`` folder of the repository this
    package lives in; else ``./ontology``.
    """
    configured = os.environ.get(ONTOLOGY_ENV)
    if configured:
        return Path(configured)
    shipped = Path(__file__).resolve().parents[2] / "ontology"
    return shipped if shipped.is_dir() else Path("ontology")


def detect_format(path: str | Path) -> Format:
    """Return the form of ``path``: a folder is YAML, files go by suffix."""
    target = Path(path)
    if target.is_dir():
        return "yaml"
    found = _SUFFIXES.get(target.suffix.lower())
    if found is None:
        raise OntologyFormatError(f"cannot tell the format of {target} from its suffix")
    return found


def read_ontology(path: str | Path | None = None) -> Ontology:
    """Read an ontology folder or file in any form (problems land in ``provenance.problems``).

    Args:
        path: Folder of YAML files, or a ``.yaml``/``.ttl``/``.json`` file; the default
            ontology (:func:`default_ontology_path`) when ``None``.

    Raises:
        OntologyFormatError: The path does not exist or its form is unknown.
    """
    target = Path(path) if path is not None else default_ontology_path()
    if not target.exists():
        raise OntologyFormatError(
            f"ontology path {target} does not exist",
            hint=f"Give a path, or set {ONTOLOGY_ENV} to the ontology folder.",
        )
    form = detect_format(target)
    if form == "turtle":
        return read_turtle(target)
    if form == "json":
        return read_json(target)
    return read_yaml(target)


def export_text(ontology: Ontology, form: Format) -> str:
    """Return the ontology as one document of ``form`` (YAML: the single-document layout)."""
    if form == "turtle":
        return dumps_turtle(ontology)
    if form == "json":
        return dumps_json(ontology)
    if form == "yaml":
        return dump_yaml(ontology)
    raise OntologyFormatError(f"unknown format {form!r}", hint=f"Use one of {', '.join(FORMATS)}.")


def write_ontology(ontology: Ontology, out: str | Path, form: Format | None = None) -> list[Path]:
    """Write ``ontology`` to ``out``: a file of ``form`` (or of its suffix), or a YAML folder.

    A path without a known suffix is treated as a folder and gets the YAML folder layout.

    Returns:
        The files written.
    """
    target = Path(out)
    suffix_form = _SUFFIXES.get(target.suffix.lower())
    if suffix_form is None and form in (None, "yaml"):
        return write_yaml_dir(ontology, target)
    text = export_text(ontology, form or suffix_form or "yaml")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return [target]
