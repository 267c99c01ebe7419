"""API keys (admin): issue, list, read, revoke. The key itself is shown once, at issue."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response, status

from needgraph.api.deps import KeysAdmin, PageDep
from needgraph.api.schemas.common import Page, page_of
from needgraph.api.schemas.keys import ApiKeyCreate, ApiKeyCreatedPublic, ApiKeyPublic
from needgraph.security.keys import KeyRing

router = APIRouter(prefix="/keys", tags=["keys"])
KeyId = Annotated[
    str, Path(description="the key's public id (12 hex digits)", examples=["3f9a0c1b2d4e"])
]


def _ring(request: Request) -> KeyRing:
    ring: KeyRing = request.app.state.keyring
    return ring


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyCreatedPublic,
    summary="Issue a key (the key is in this answer only)",
)
def create_key(
    body: ApiKeyCreate, request: Request, response: Response, admin: KeysAdmin
) -> dict[str, object]:
    """Issue a key with a role; store only its salted hash; return the key this once."""
    issued = _ring(request).create(body.name, body.role, admin.name)
    response.headers["Location"] = f"/v1/keys/{issued.record.id}"
    response.headers["Cache-Control"] = "no-store"
    return {**issued.record.public(), "key": issued.key}


@router.get("", response_model=Page[ApiKeyPublic], summary="List keys (revoked ones included)")
def list_keys(request: Request, admin: KeysAdmin, paging: PageDep) -> dict[str, object]:
    """List every key's record, oldest first (never the key or its hash)."""
    records = _ring(request).list_keys()
    items = [r.public() for r in records[paging.offset : paging.offset + paging.limit]]
    return page_of(items, len(records), paging.limit, paging.offset)


@router.get("/{key_id}", response_model=ApiKeyPublic, summary="Read a key's record")
def get_key(request: Request, admin: KeysAdmin, key_id: KeyId) -> dict[str, object]:
    """Return one key's record."""
    return _ring(request).get(key_id).public()


@router.delete("/{key_id}", response_model=ApiKeyPublic, summary="Revoke a key")
def revoke_key(request: Request, admin: KeysAdmin, key_id: KeyId) -> dict[str, object]:
    """Revoke a key at once (other API workers within the key cache time)."""
    return _ring(request).revoke(key_id, admin.name).public()
