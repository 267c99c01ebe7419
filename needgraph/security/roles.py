"""Roles and the scopes they grant.

=========  ==========================================================
role       scopes
=========  ==========================================================
analyst    ``read``
engine     ``read``, ``events``, ``outcomes``
editor     ``read``, ``ontology:write``
admin      every scope (``ingest``, ``train``, ``keys`` are admin only)
=========  ==========================================================
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a key is for."""

    analyst = "analyst"
    engine = "engine"
    editor = "editor"
    admin = "admin"


class Scope(StrEnum):
    """A permission a route requires."""

    read = "read"
    events = "events"
    outcomes = "outcomes"
    ontology_write = "ontology:write"
    ingest = "ingest"
    train = "train"
    keys = "keys"


ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.analyst: frozenset({Scope.read}),
    Role.engine: frozenset({Scope.read, Scope.events, Scope.outcomes}),
    Role.editor: frozenset({Scope.read, Scope.ontology_write}),
    Role.admin: frozenset(Scope),
}


def allows(role: Role, scope: Scope) -> bool:
    """Return whether ``role`` grants ``scope``."""
    return scope in ROLE_SCOPES[role]


def roles_with(scope: Scope) -> list[Role]:
    """Return the roles that grant ``scope`` (for error messages and docs)."""
    return [role for role in Role if allows(role, scope)]
