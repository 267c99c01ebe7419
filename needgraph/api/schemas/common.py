"""Models every resource shares: the page envelope and the problem document."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")
MAX_LIMIT = 500
DEFAULT_LIMIT = 50


class Page(BaseModel, Generic[T]):
    """One page of a list: the items, how many there are in all, and where the page starts."""

    items: list[T]
    total: int = Field(ge=0, description="number of items over all pages")
    limit: int = Field(ge=1, le=MAX_LIMIT, description="page size asked for")
    offset: int = Field(ge=0, description="index of the first item of this page")


class FieldError(BaseModel):
    """One invalid value of a request."""

    field: str = Field(description="dotted location, e.g. body.concept.label or query.limit")
    message: str


class OntologyProblem(BaseModel):
    """One problem the ontology validator found (see docs/ontology.md for the codes)."""

    code: str
    file: str | None = None
    line: int | None = None
    concept: str | None = None
    message: str
    hint: str = ""


class Problem(BaseModel):
    """An RFC 9457 problem document; ``type`` is stable, ``detail`` names what is at fault."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://needgraph.dev/problems/concept-not-found",
                    "title": "Concept not found",
                    "status": 404,
                    "detail": "no concept has id 'cause.nope'",
                    "hint": "Search concepts with GET /v1/concepts?q=...",
                    "instance": "/v1/concepts/cause.nope",
                }
            ]
        },
    )

    type: str = Field(description="stable URI of the problem type")
    title: str
    status: int
    detail: str
    instance: str = Field(description="path of the request")
    hint: str | None = Field(None, description="how to fix it")
    errors: list[FieldError] | None = Field(None, description="request validation errors")
    problems: list[OntologyProblem] | None = Field(
        None, description="ontology validation problems (domain validation)"
    )


def page_of(items: list[Any], total: int, limit: int, offset: int) -> dict[str, Any]:
    """Return the envelope of one page as plain data."""
    return {"items": items, "total": total, "limit": limit, "offset": offset}
