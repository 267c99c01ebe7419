"""API keys: issue, list, revoke (admin only). The key itself is returned once, at issue."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from needgraph.security.roles import Role


class ApiKeyCreate(BaseModel):
    """A key to issue."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"name": "crm-engine", "role": "engine"}]}
    )
    name: str = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[\w][\w .@+-]{0,63}$",
        description="who or what uses it; becomes `who` in ontology audit records",
    )
    role: Role


class ApiKeyPublic(BaseModel):
    """A key's record (never the key or its hash)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "3f9a0c1b2d4e",
                    "name": "crm-engine",
                    "role": "engine",
                    "created_at": "2025-01-31T09:15:00Z",
                    "created_by": "bootstrap-admin",
                    "revoked_at": None,
                    "revoked_by": None,
                    "active": True,
                }
            ]
        }
    )
    id: str
    name: str
    role: Role
    created_at: str
    created_by: str
    revoked_at: str | None = None
    revoked_by: str | None = None
    active: bool


class ApiKeyCreatedPublic(ApiKeyPublic):
    """A newly issued key: the record plus the key itself, shown this once only."""

    key: str = Field(description="send as X-API-Key; it is stored hashed and cannot be shown again")
