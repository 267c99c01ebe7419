"""The need-centred concept model: files, validation, label lookup, loading and versioning.

Importing this package is cheap (the store layer imports :mod:`.graph_schema` from it); the
names below are imported on first use.

Example:
    >>> from needgraph.ontology import read_ontology, validate  # doctest: +SKIP
    >>> problems = validate(read_ontology("ontology"))  # doctest: +SKIP
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Concept": "model",
    "Manifest": "model",
    "Bin": "model",
    "Ontology": "core",
    "Problem": "problems",
    "read_ontology": "files",
    "write_ontology": "files",
    "export_text": "files",
    "default_ontology_path": "files",
    "validate": "validate",
    "ensure_valid": "validate",
    "normalise_label": "lookup",
    "LabelIndex": "lookup",
    "load_into_store": "loader",
    "deprecate": "changes",
    "merge": "changes",
    "current_version": "versioning",
    "audit_trail": "versioning",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
