"""The ontology as a whole: export, import (Turtle), versions and loads.

The files in ``Settings.ontology_path`` are the source of truth; the store holds a versioned
copy with an audit trail (every record carries a diff).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from needgraph.api.deps import EditorDep, OntologyWriter, PageDep, Reader
from needgraph.api.schemas.common import Page, page_of
from needgraph.api.schemas.ontology import LoadPublic, OntologyVersionCreate, VersionPublic
from needgraph.ontology.loader import LoadReport

router = APIRouter(prefix="/ontology", tags=["ontology"])
MEDIA_TYPES = {
    "json": "application/json",
    "yaml": "application/yaml",
    "turtle": "text/turtle",
}
_DOCUMENT = {
    "type": "object",
    "required": ["ontology", "concepts"],
    "properties": {
        "ontology": {"type": "object", "description": "the manifest: name, version, languages"},
        "concepts": {"type": "array", "items": {"type": "object"}},
    },
}
SUFFIXES = {"json": "json", "yaml": "yaml", "turtle": "ttl"}
TURTLE_TYPES = frozenset({"text/turtle", "application/x-turtle"})
_TURTLE_EXAMPLE = (
    "@prefix ng: <https://needgraph.dev/ontology#> .\n"
    "@prefix ngc: <https://needgraph.dev/ontology/id/> .\n"
    "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .\n"
    "ngc:cause.evening_congestion a skos:Concept, ng:Cause ;\n"
    '    skos:prefLabel "晚高峰拥塞"@zh, "evening congestion"@en .\n'
)


def _load(report: LoadReport) -> dict[str, Any]:
    return {
        "changed": report.changed,
        "version": report.version,
        "content_hash": report.content_hash,
        "record": report.record.model_dump(mode="json") if report.record else None,
        "nodes_written": report.nodes_written,
        "relationships_written": report.relationships_written,
        "relationships_removed": report.relationships_removed,
        "deleted": list(report.deleted),
        "kept": list(report.kept),
    }


@router.get(
    "",
    summary="Export the ontology (Turtle, YAML or JSON)",
    response_class=Response,
    responses={
        200: {
            "description": "The whole ontology as one document",
            "content": {
                "application/json": {"schema": _DOCUMENT},
                "application/yaml": {"schema": _DOCUMENT},
                "text/turtle": {"schema": {"type": "string"}, "example": _TURTLE_EXAMPLE},
            },
        }
    },
)
def export_ontology(
    editor: EditorDep,
    caller: Reader,
    format: Annotated[
        Literal["json", "yaml", "turtle"],
        Query(description="turtle (SKOS/OWL, opens in Protégé), yaml (one document) or json"),
    ] = "json",
) -> Response:
    """Export the ontology the files hold (deterministic: same content, same bytes)."""
    text = editor.export(format)
    version = editor.ontology().manifest.version
    filename = f"ontology-{version}.{SUFFIXES[format]}"
    return Response(
        text,
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.put(
    "",
    response_model=LoadPublic,
    summary="Replace the ontology with a Turtle document",
    responses={415: {"description": "The body is not text/turtle"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "A Turtle document as `GET /v1/ontology?format=turtle` writes it "
            "(e.g. after editing in Protégé).",
            "content": {"text/turtle": {"schema": {"type": "string"}, "example": _TURTLE_EXAMPLE}},
        }
    },
)
async def import_ontology(
    request: Request,
    editor: EditorDep,
    writer: OntologyWriter,
    why: Annotated[
        str, Query(min_length=1, max_length=1000, description="kept in the audit trail")
    ],
) -> dict[str, Any]:
    """Replace the ontology with the document.

    The document is validated, written to the ontology files (concepts stay in the files they live
    in) and loaded into the store as a new version; concepts it lacks are removed. 422 with every
    problem when it does not read or validate; nothing is written then.
    """
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in TURTLE_TYPES:
        raise HTTPException(
            415, f"content-type must be text/turtle, got {content_type or 'none'!r}"
        )
    body = await request.body()
    report = await run_in_threadpool(editor.import_turtle, body, writer.name, why)
    return _load(report)


@router.get("/versions", response_model=Page[VersionPublic], summary="Version history")
def list_versions(editor: EditorDep, caller: Reader, paging: PageDep) -> dict[str, Any]:
    """Every accepted change (newest first) with who, when, why and the diff."""
    records = editor.versions()
    items = [
        r.model_dump(mode="json") for r in records[paging.offset : paging.offset + paging.limit]
    ]
    return page_of(items, len(records), paging.limit, paging.offset)


@router.post(
    "/versions",
    response_model=LoadPublic,
    status_code=status.HTTP_201_CREATED,
    summary="Load the ontology files into the store",
    responses={200: {"model": LoadPublic, "description": "The store already held the files"}},
)
def load_ontology(body: OntologyVersionCreate, editor: EditorDep, writer: OntologyWriter) -> Any:
    """Load the files as they are (e.g. after a git pull) as a new version.

    201 with the new record, or 200 when the store already holds this content. 409 when the
    content changed but the files' version is not above the store's.
    """
    report = editor.load(writer.name, body.why)
    if not report.changed:
        return JSONResponse(_load(report), status_code=200)
    return _load(report)


@router.get("/versions/{version}", response_model=VersionPublic, summary="One version")
def get_version(
    version: Annotated[str, Path(max_length=50, examples=["1.0.3"])],
    editor: EditorDep,
    caller: Reader,
) -> dict[str, Any]:
    """One version record with its diff."""
    return editor.version(version).model_dump(mode="json")
