"""Errors the ingest package raises on purpose, each with a fix hint naming file, row or field."""

from __future__ import annotations

from typing import ClassVar

from needgraph.errors import NeedgraphError


class IngestError(NeedgraphError):
    """Base for ingest errors (a job that cannot start or cannot go on)."""

    type_slug: ClassVar[str] = "ingest"
    title: ClassVar[str] = "Ingest error"
    status: ClassVar[int] = 422


class MappingError(IngestError):
    """A mapping file is malformed, names unknown concepts, or maps a forbidden column."""

    type_slug = "ingest-mapping"
    title = "Invalid ingest mapping"
    default_hint = (
        "See docs/ingest.md for the mapping format; mappings/ibm_telco.yaml is an example."
    )


class ForbiddenColumnError(MappingError):
    """A mapping maps a column listed in ``never_inputs`` (it would leak the label)."""

    type_slug = "ingest-forbidden-column"
    title = "Forbidden input column"


class InputFormatError(IngestError):
    """An input file cannot be read at all (unknown format, missing header, unreadable)."""

    type_slug = "ingest-input"
    title = "Unreadable input file"


class OntologyNotLoadedError(IngestError):
    """The store holds no ontology, or not the one the job was given."""

    type_slug = "ingest-ontology-missing"
    title = "Ontology not loaded"
    status = 409
    default_hint = "run: needgraph ontology load"


class UnsupportedStoreError(IngestError):
    """The store backend has no batch writer for ingest."""

    type_slug = "ingest-store"
    title = "Store not supported by ingest"
    status = 500
