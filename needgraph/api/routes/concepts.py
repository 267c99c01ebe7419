"""Concepts of the ontology: search, read, create, update, deprecate, merge, history.

Reads need the ``read`` scope; changes need ``ontology:write`` (editor, admin) and carry a
``why``; the key's name is recorded as ``who``.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status

from needgraph.api.deps import EditorDep, OntologyWriter, PageDep, Reader
from needgraph.api.schemas.common import Page, page_of
from needgraph.api.schemas.concepts import (
    ConceptChangePublic,
    ConceptCreate,
    ConceptDetailPublic,
    ConceptPublic,
    ConceptUpdate,
    DeprecationCreate,
    MergeCreate,
)
from needgraph.api.schemas.ontology import VersionPublic
from needgraph.api.services.ontology_editor import Change, OntologyEditor
from needgraph.ontology.model import Concept, Kind

router = APIRouter(prefix="/concepts", tags=["concepts"])
ConceptId = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        description="concept id, <kind>.<snake_case>",
        examples=["cause.evening_congestion"],
    ),
]


def _public(concept: Concept, matched: str | None = None) -> dict[str, Any]:
    return {**concept.to_data(), "matched": matched}


def _detail(editor: OntologyEditor, concept: Concept) -> dict[str, Any]:
    relations = [vars(r) for r in editor.relations(concept.id)]
    return {**concept.to_data(), "relations": relations}


def _change(editor: OntologyEditor, change: Change) -> dict[str, Any]:
    return {
        "concept": _detail(editor, change.concept) if change.concept is not None else None,
        "version": change.record.model_dump(mode="json") if change.record else None,
        "relinked": change.relinked,
    }


@router.get("", response_model=Page[ConceptPublic], summary="List or search concepts")
def list_concepts(
    editor: EditorDep,
    caller: Reader,
    paging: PageDep,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="label or synonym, zh or en; matching ignores width, case, traditional "
            "vs simplified characters and joiners (Ｗｉ－Ｆｉ死角 finds WiFi死角)",
            examples=["晚上卡"],
        ),
    ] = None,
    kind: Annotated[Kind | None, Query(description="only concepts of this kind")] = None,
    include_deprecated: Annotated[
        bool, Query(description="also return deprecated concepts")
    ] = False,
) -> dict[str, Any]:
    """List concepts (by id), or search them by label.

    Exact matches come first (preferred labels before synonyms), then labels that start with the
    query, then labels that contain it, then ids that contain it.
    """
    hits = editor.search(q, kind, include_deprecated)
    items = [
        _public(h.concept, h.matched) for h in hits[paging.offset : paging.offset + paging.limit]
    ]
    return page_of(items, len(hits), paging.limit, paging.offset)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ConceptChangePublic,
    summary="Add a concept",
)
def create_concept(
    body: ConceptCreate, editor: EditorDep, writer: OntologyWriter, response: Response
) -> dict[str, Any]:
    """Add a concept.

    The ontology is validated, written back to its files and loaded into the store as a new patch
    version. A change that makes the ontology invalid is refused with 422 and every problem
    (`problems`).
    """
    data = body.model_dump(mode="json", exclude={"why"}, exclude_unset=True)
    change = editor.create(data, writer.name, body.why)
    response.headers["Location"] = f"/v1/concepts/{body.id}"
    return _change(editor, change)


@router.get("/{concept_id}", response_model=ConceptDetailPublic, summary="Read a concept")
def get_concept(concept_id: ConceptId, editor: EditorDep, caller: Reader) -> dict[str, Any]:
    """Return a concept with every relationship it takes part in."""
    return _detail(editor, editor.concept(concept_id))


@router.patch("/{concept_id}", response_model=ConceptChangePublic, summary="Update a concept")
def update_concept(
    concept_id: ConceptId, body: ConceptUpdate, editor: EditorDep, writer: OntologyWriter
) -> dict[str, Any]:
    """Replace the members given.

    `null` resets a member; label, definition and synonyms merge per language. Validated like a
    new concept; `version` is null when nothing changed.
    """
    changes = body.model_dump(mode="json", exclude={"why"}, exclude_unset=True)
    change = editor.update(concept_id, changes, writer.name, body.why)
    return _change(editor, change)


@router.post(
    "/{concept_id}/deprecate",
    response_model=ConceptChangePublic,
    summary="Deprecate a concept in favour of another",
)
def deprecate_concept(
    concept_id: ConceptId, body: DeprecationCreate, editor: EditorDep, writer: OntologyWriter
) -> dict[str, Any]:
    """Mark the concept deprecated, replaced by the survivor.

    Customer data moves to the survivor and references to the concept elsewhere now name the
    survivor. 409 when the store does not hold the files' content (load it with
    `POST /v1/ontology/versions` first).
    """
    change = editor.deprecate(concept_id, body.replaced_by, writer.name, body.why)
    return _change(editor, change)


@router.post(
    "/{concept_id}/merge",
    response_model=ConceptChangePublic,
    summary="Merge a concept into another",
)
def merge_concept(
    concept_id: ConceptId, body: MergeCreate, editor: EditorDep, writer: OntologyWriter
) -> dict[str, Any]:
    """Fold the concept into `into`.

    Every relationship moves, its labels become synonyms of the survivor, and it is removed;
    `concept` in the answer is null.
    """
    change = editor.merge(concept_id, body.into, writer.name, body.why)
    return _change(editor, change)


@router.get(
    "/{concept_id}/history",
    response_model=Page[VersionPublic],
    summary="Versions that touched a concept",
)
def concept_history(
    concept_id: ConceptId, editor: EditorDep, caller: Reader, paging: PageDep
) -> dict[str, Any]:
    """List the versions that touched the concept, newest first.

    These are the audit records whose diff adds, removes or changes the concept, or that
    deprecated or merged it.
    """
    records = editor.history(concept_id)
    if not records:
        editor.concept(concept_id)  # 404 for an id that neither exists nor ever existed
    items = [
        r.model_dump(mode="json") for r in records[paging.offset : paging.offset + paging.limit]
    ]
    return page_of(items, len(records), paging.limit, paging.offset)
