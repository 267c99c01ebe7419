"""Authentication and authorisation errors (RFC 9457 problem documents via NeedgraphError)."""

from __future__ import annotations

from needgraph.errors import NeedgraphError


class AuthenticationError(NeedgraphError):
    """No API key, or one the service does not know (or that was revoked): HTTP 401."""

    type_slug = "unauthorized"
    title = "Unauthorized"
    status = 401
    default_hint = "Send a valid key in the X-API-Key header (`needgraph keys create` issues one)."


class PermissionDeniedError(NeedgraphError):
    """The key is valid but its role does not grant the scope the route needs: HTTP 403."""

    type_slug = "forbidden"
    title = "Forbidden"
    status = 403
    default_hint = "Ask an admin for a key with a role that grants this scope."


class ApiKeyNotFoundError(NeedgraphError):
    """No API key has this id: HTTP 404."""

    type_slug = "api-key-not-found"
    title = "API key not found"
    status = 404
    default_hint = "List the keys (GET /v1/keys or `needgraph keys list`) for their ids."


class InvalidApiKeyRequestError(NeedgraphError):
    """A key name or role is unusable: HTTP 422."""

    type_slug = "invalid-api-key-request"
    title = "Invalid API key request"
    status = 422
