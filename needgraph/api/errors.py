"""Errors the API's services raise, as :class:`~needgraph.errors.NeedgraphError` subclasses.

Each maps to an RFC 9457 problem document with a stable ``type`` (see ``docs/api.md``).
"""

from __future__ import annotations

from typing import Any

from needgraph.errors import NeedgraphError


class ConceptNotFoundError(NeedgraphError):
    """No concept has this id."""

    type_slug = "concept-not-found"
    title = "Concept not found"
    status = 404
    default_hint = "Search concepts with GET /v1/concepts?q=..."


class ConceptExistsError(NeedgraphError):
    """A concept with this id exists already."""

    type_slug = "concept-exists"
    title = "Concept exists"
    status = 409
    default_hint = "Update it with PATCH /v1/concepts/{id}, or choose another id."


class VersionNotFoundError(NeedgraphError):
    """The store's audit trail has no version with this number."""

    type_slug = "version-not-found"
    title = "Ontology version not found"
    status = 404
    default_hint = "List the versions with GET /v1/ontology/versions."


class IngestJobNotFoundError(NeedgraphError):
    """No ingest job has this id."""

    type_slug = "ingest-job-not-found"
    title = "Ingest job not found"
    status = 404
    default_hint = "List the jobs with GET /v1/ingest-jobs."


class InvalidInputError(NeedgraphError):
    """A request is well formed but a value in it is unusable (names the field).

    Args:
        field: Dotted location of the offending value, e.g. ``body.concept.label``.
        message: What is wrong with it.
        errors: Every problem as ``{"field", "message"}`` (defaults to the one given).
        **context: Extra problem members.
    """

    type_slug = "invalid-request"
    title = "Invalid request"
    status = 422

    def __init__(
        self,
        field: str,
        message: str,
        *,
        errors: list[dict[str, str]] | None = None,
        hint: str | None = None,
        **context: Any,
    ) -> None:
        super().__init__(
            f"{field}: {message}",
            hint=hint,
            errors=errors or [{"field": field, "message": message}],
            **context,
        )


class ServiceShuttingDownError(NeedgraphError):
    """The service is stopping and takes no new background work."""

    type_slug = "shutting-down"
    title = "Service shutting down"
    status = 503
    default_hint = "Retry against another instance, or once the service is back."


class OntologyUnavailableError(NeedgraphError):
    """The configured ontology folder (or file) does not exist."""

    type_slug = "ontology-unavailable"
    title = "Ontology unavailable"
    status = 503
    default_hint = "Point NEEDGRAPH_ONTOLOGY at the ontology folder (the repository's ontology/)."


class ModelNotLoadedError(NeedgraphError):
    """A reasoning route was called while the service holds no model (none, loading, failed)."""

    type_slug = "model-not-loaded"
    title = "No model loaded"
    status = 503
    default_hint = (
        "Train one with `needgraph train` (it writes to NEEDGRAPH_MODEL_DIR) or set "
        "NEEDGRAPH_MODEL, then restart the service or POST /v1/model/reload (admin)."
    )
