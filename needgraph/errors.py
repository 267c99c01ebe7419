"""One error root for needgraph, with narrow subclasses that carry a fix-it hint.

Every error maps to an RFC 9457 problem document: ``type`` (a stable slug), ``title``,
``status`` (the HTTP status an API would answer) and ``detail`` (the message, naming the field,
id or value at fault). The CLI prints ``detail`` and ``hint``; the API serialises all of it.
"""

from __future__ import annotations

from typing import Any, ClassVar


class NeedgraphError(Exception):
    """Root of every error needgraph raises on purpose.

    Args:
        detail: What went wrong, naming the offending field, id or value.
        hint: How to fix it (optional; falls back to the class default).
        **context: Extra machine-readable members for the problem document.
    """

    type_slug: ClassVar[str] = "needgraph-error"
    title: ClassVar[str] = "needgraph error"
    status: ClassVar[int] = 500
    default_hint: ClassVar[str] = ""

    def __init__(self, detail: str, *, hint: str | None = None, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.hint = hint if hint is not None else self.default_hint
        self.context = context

    def __str__(self) -> str:
        return f"{self.detail} (hint: {self.hint})" if self.hint else self.detail

    def problem(self) -> dict[str, Any]:
        """Return the RFC 9457 problem members of this error (without ``instance``)."""
        body: dict[str, Any] = {
            "type": f"https://needgraph.dev/problems/{self.type_slug}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.hint:
            body["hint"] = self.hint
        body.update(self.context)
        return body


class ConfigError(NeedgraphError):
    """A setting is missing, malformed or unsafe."""

    type_slug = "config"
    title = "Invalid configuration"
    status = 500
    default_hint = "Check the NEEDGRAPH_* and NEO4J_* environment variables (see .env.example)."


class StoreError(NeedgraphError):
    """Base for graph store errors."""

    type_slug = "store"
    title = "Graph store error"


class StoreUnavailableError(StoreError):
    """The configured store cannot be reached."""

    type_slug = "store-unavailable"
    title = "Graph store unavailable"
    status = 503
    default_hint = (
        "Start Neo4j (`make neo4j-start`, then `source .neo4j/env`) or point NEEDGRAPH_STORE at "
        "an embedded file, e.g. sqlite:///needgraph.db."
    )


class SchemaViolationError(StoreError):
    """A write names a label, type, key or property the graph schema does not allow."""

    type_slug = "schema-violation"
    title = "Graph schema violation"
    status = 422


class UnknownLabelError(SchemaViolationError):
    """A node label outside the allow-list."""

    type_slug = "unknown-label"
    title = "Unknown node label"


class UnknownRelationshipTypeError(SchemaViolationError):
    """A relationship type outside the allow-list, or between labels it does not connect."""

    type_slug = "unknown-relationship-type"
    title = "Unknown relationship type"


class MissingKeyError(SchemaViolationError):
    """A node or relationship endpoint without a usable key."""

    type_slug = "missing-key"
    title = "Missing key"
    default_hint = "Every node needs a non-empty string key, unique within its label."


class UnsupportedPropertyError(SchemaViolationError):
    """A property whose value type the stores cannot hold."""

    type_slug = "unsupported-property"
    title = "Unsupported property value"
    default_hint = (
        "Properties may be str, int, float, bool, None (removes the property) or a list of one of "
        "str/int/float/bool; serialise anything else (e.g. json.dumps) before writing."
    )


class NodeNotFoundError(StoreError):
    """A node named by the caller does not exist."""

    type_slug = "node-not-found"
    title = "Node not found"
    status = 404


class ModelError(NeedgraphError):
    """Base for trained-model errors (artifacts, the runtime that serves them)."""

    type_slug = "model"
    title = "Model error"


class ModelNotFoundError(ModelError):
    """No trained model artifact where one was expected."""

    type_slug = "model-not-found"
    title = "No trained model"
    status = 503
    default_hint = (
        "Train one with `needgraph train` (it writes to NEEDGRAPH_MODEL_DIR), or point "
        "NEEDGRAPH_MODEL / --model at an existing artifact."
    )


class ModelMismatchError(ModelError):
    """A model artifact does not fit the store: other ontology version or feature schema."""

    type_slug = "model-mismatch"
    title = "Model does not match the graph"
    status = 409
    default_hint = (
        "Retrain on this store with `needgraph train`, or load the ontology version the model "
        "was trained on (`needgraph ontology load`)."
    )


class CustomerNotFoundError(ModelError):
    """A customer key the graph does not hold."""

    type_slug = "customer-not-found"
    title = "Customer not found"
    status = 404
    default_hint = "Check the customer id: the key of a Customer node in the configured store."


class UnknownDomainError(ModelError):
    """A domain the model does not predict (no labels for it at training time, or not defined)."""

    type_slug = "unknown-domain"
    title = "Unknown domain"
    status = 422
    default_hint = "Use one of the model's domains (`needgraph predict CUSTOMER` lists them)."


class ReasoningArgumentError(ModelError, ValueError):
    """A reasoning parameter out of its range (names the parameter, the value and the range)."""

    type_slug = "reasoning-argument"
    title = "Invalid reasoning parameter"
    status = 422
    default_hint = "See `needgraph explain --help` for each parameter's range."


class EventValidationError(NeedgraphError):
    """A real-time event or outcome that cannot be recorded: names the field, value and fix."""

    type_slug = "event-validation"
    title = "Invalid event"
    status = 422
    default_hint = "See docs/events.md for the fields each event kind takes."


class EvaluationInputError(NeedgraphError):
    """An input of ``needgraph evaluate`` is missing or unusable (names the path and the fix)."""

    type_slug = "evaluation-input"
    title = "Invalid evaluation input"
    status = 422
    default_hint = "See `needgraph evaluate --help` for what each protocol reads."
