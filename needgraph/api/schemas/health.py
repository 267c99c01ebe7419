"""Liveness and readiness answers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LivePublic(BaseModel):
    """The process is up."""

    status: str = Field(examples=["ok"])


class ReadyPublic(BaseModel):
    """Every readiness check passed."""

    status: str = Field(examples=["ready"])
    store: str = Field(examples=["sqlite"], description="store backend")
    checks: dict[str, str] = Field(default_factory=dict, examples=[{"store": "ok"}])
