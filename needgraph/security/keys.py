"""API keys: issue, list, revoke and check them; only salted hashes are ever stored.

A key looks like ``ngk_<id>_<secret>``: ``id`` (12 hex digits) is public and names the key in
lists, logs and audit records; ``secret`` is 32 random bytes (URL-safe base64). The store keeps,
per key, a random 16-byte salt and ``sha256(salt || key)``; a presented key is hashed with the
salt of the record its id names and compared with :func:`hmac.compare_digest` (constant time).
Keys carry 256 bits of entropy, so a fast hash is enough (no password-stretching needed).

All records live in one JSON document in the store's metadata (``api.keys``), so the embedded
and the Neo4j store both work and every API worker sees the same keys. Reads are cached for a
couple of seconds; a revocation made by another process takes effect within that time.

A bootstrap admin key (``NEEDGRAPH_ADMIN_KEY``) is hashed when the ring is built and never
stored; it is the way in before any key exists.

Example:
    >>> ring = KeyRing(store)  # doctest: +SKIP
    >>> issued = ring.create("ana", Role.editor, created_by="cli")  # doctest: +SKIP
    >>> ring.authenticate(issued.key).role  # doctest: +SKIP
    <Role.editor: 'editor'>
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from needgraph.graph.base import GraphStore
from needgraph.security.errors import (
    ApiKeyNotFoundError,
    AuthenticationError,
    InvalidApiKeyRequestError,
    PermissionDeniedError,
)
from needgraph.security.roles import Role, Scope, allows, roles_with

KEYS_META = "api.keys"
KEY_PREFIX = "ngk"
BOOTSTRAP_ID = "bootstrap"
BOOTSTRAP_NAME = "bootstrap-admin"
MAX_KEY_LENGTH = 256
_KEY_FORMAT = re.compile(r"^ngk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$")
_KEY_ID = re.compile(r"^[0-9a-f]{12}$")
_NAME = re.compile(r"^[\w][\w .@+-]{0,63}$")
_DUMMY_SALT = "00" * 16
MISS_REFRESH_SECONDS = 0.25


def hash_key(key: str, salt: str) -> str:
    """Return the hex sha256 of ``salt`` (hex) followed by the UTF-8 bytes of ``key``."""
    return hashlib.sha256(bytes.fromhex(salt) + key.encode("utf-8")).hexdigest()


_DUMMY_HASH = hash_key("not-a-key", _DUMMY_SALT)


def _key_id(presented: str | None) -> str | None:
    """The id part of a well-formed key (``ngk_<id>_<secret>``), else ``None``."""
    if not presented or len(presented) > MAX_KEY_LENGTH:
        return None
    match = _KEY_FORMAT.match(presented)
    return match.group(1) if match else None


def utc_now() -> str:
    """Return the current UTC time as ISO 8601 with a ``Z`` suffix, to the second."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class ApiKeyRecord:
    """What the store keeps about one key (never the key itself).

    Attributes:
        id: Public id (12 hex digits), part of the key.
        name: Who or what uses the key; recorded as ``who`` in ontology audit records.
        role: The key's role.
        salt: Random salt (hex) of the hash.
        hash: ``sha256(salt || key)`` (hex).
        created_at: UTC time of issue (ISO 8601).
        created_by: Name of the key (or ``cli``) that issued it.
        revoked_at: UTC time of revocation, ``None`` while active.
        revoked_by: Who revoked it.
    """

    id: str
    name: str
    role: Role
    salt: str
    hash: str
    created_at: str
    created_by: str
    revoked_at: str | None = None
    revoked_by: str | None = None

    @property
    def active(self) -> bool:
        """Whether the key is not revoked."""
        return self.revoked_at is None

    def to_data(self) -> dict[str, Any]:
        """Return the stored form (JSON-ready)."""
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role.value,
            "salt": self.salt,
            "hash": self.hash,
            "created_at": self.created_at,
            "created_by": self.created_by,
            "revoked_at": self.revoked_at,
            "revoked_by": self.revoked_by,
        }

    def public(self) -> dict[str, Any]:
        """Return what may be shown: everything but the salt and the hash."""
        data = self.to_data()
        del data["salt"], data["hash"]
        data["active"] = self.active
        return data

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> ApiKeyRecord:
        """Build a record from its stored form."""
        return cls(
            id=str(data["id"]),
            name=str(data["name"]),
            role=Role(data["role"]),
            salt=str(data["salt"]),
            hash=str(data["hash"]),
            created_at=str(data["created_at"]),
            created_by=str(data.get("created_by") or ""),
            revoked_at=data.get("revoked_at"),
            revoked_by=data.get("revoked_by"),
        )


@dataclass(frozen=True)
class Principal:
    """The caller a request was authenticated as.

    Attributes:
        key_id: Id of the key (``bootstrap`` for the bootstrap admin key).
        name: Name of the key.
        role: Role of the key.
    """

    key_id: str
    name: str
    role: Role

    def allows(self, scope: Scope) -> bool:
        """Return whether the caller's role grants ``scope``."""
        return allows(self.role, scope)


@dataclass(frozen=True)
class IssuedKey:
    """A newly issued key: the record, and the key itself (shown once, never stored)."""

    record: ApiKeyRecord
    key: str = field(repr=False)


def _new_key() -> tuple[str, str]:
    key_id = secrets.token_hex(6)
    return key_id, f"{KEY_PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


class KeyRing:
    """The API keys of one store.

    Args:
        store: Where the hashed records live (metadata ``api.keys``).
        bootstrap_admin_key: A key that is always an admin (hashed now, never stored); ``None``
            or empty for none.
        cache_seconds: How long a read of the records is reused.
        clock: Monotonic clock (tests replace it).
    """

    def __init__(
        self,
        store: GraphStore,
        *,
        bootstrap_admin_key: str | None = None,
        cache_seconds: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.cache_seconds = cache_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, ApiKeyRecord] | None = None
        self._cached_at = 0.0
        self._bootstrap: tuple[str, str] | None = None
        if bootstrap_admin_key:
            salt = secrets.token_hex(16)
            self._bootstrap = (salt, hash_key(bootstrap_admin_key, salt))

    # -- storage ---------------------------------------------------------------------------
    def _read(self) -> dict[str, ApiKeyRecord]:
        raw = self.store.get_meta(KEYS_META)
        if not raw:
            return {}
        items = json.loads(raw).get("keys", [])
        return {item["id"]: ApiKeyRecord.from_data(item) for item in items}

    def _records(self, key_id: str | None = None) -> dict[str, ApiKeyRecord]:
        """Return the records, re-read when the cache is old.

        Also re-read when ``key_id`` is not cached and the cache is older than
        :data:`MISS_REFRESH_SECONDS`: a key just issued elsewhere works at once, and unknown
        ids cannot make every request read the store.
        """
        now = self._clock()
        if self._must_read(key_id, now):
            self._cache = self._read()
            self._cached_at = now
        assert self._cache is not None
        return self._cache

    def _must_read(self, key_id: str | None, now: float) -> bool:
        age = now - self._cached_at
        stale = self._cache is None or age > self.cache_seconds
        missing = key_id is not None and self._cache is not None and key_id not in self._cache
        return stale or (missing and age > MISS_REFRESH_SECONDS)

    def reads_store(self, presented: str | None) -> bool:
        """Whether :meth:`authenticate` of ``presented`` would read the store now.

        False while the cached records are fresh and can decide about the key (the common case):
        the API then authenticates on its event loop instead of handing the request to a thread.
        """
        key_id = _key_id(presented)  # authenticate() looks up only well-formed keys
        return key_id is not None and self._must_read(key_id, self._clock())

    def _write(self, records: dict[str, ApiKeyRecord]) -> None:
        ordered = sorted(records.values(), key=lambda r: (r.created_at, r.id))
        doc = {"version": 1, "keys": [r.to_data() for r in ordered]}
        self.store.set_meta(KEYS_META, json.dumps(doc, ensure_ascii=False, sort_keys=True))
        self._cache = dict(records)
        self._cached_at = self._clock()

    # -- management ------------------------------------------------------------------------
    def create(self, name: str, role: Role | str, created_by: str) -> IssuedKey:
        """Issue a key.

        Args:
            name: Who or what will use it (1-64 characters: letters, digits, ``space . _ @ + -``).
            role: ``analyst``, ``engine``, ``editor`` or ``admin``.
            created_by: Who issues it (recorded).

        Returns:
            The record and the key; the key is not kept anywhere, show it once.

        Raises:
            InvalidApiKeyRequestError: The name or the role is unusable.
        """
        if not isinstance(name, str) or not _NAME.match(name):
            raise InvalidApiKeyRequestError(
                f"name {name!r} is not 1-64 characters of letters, digits, space . _ @ + -",
                field="name",
            )
        try:
            role = Role(role)
        except ValueError:
            raise InvalidApiKeyRequestError(
                f"role {role!r} is not one of {', '.join(r.value for r in Role)}", field="role"
            ) from None
        with self._lock:
            records = self._read()
            key_id, key = _new_key()
            while key_id in records:
                key_id, key = _new_key()
            salt = secrets.token_hex(16)
            record = ApiKeyRecord(
                id=key_id,
                name=name,
                role=role,
                salt=salt,
                hash=hash_key(key, salt),
                created_at=utc_now(),
                created_by=created_by,
            )
            records[key_id] = record
            self._write(records)
        return IssuedKey(record, key)

    def list_keys(self) -> list[ApiKeyRecord]:
        """Return every key record (revoked ones included), oldest first."""
        return sorted(self._read().values(), key=lambda r: (r.created_at, r.id))

    def get(self, key_id: str) -> ApiKeyRecord:
        """Return the record of ``key_id``.

        Raises:
            ApiKeyNotFoundError: No key has this id.
        """
        record = self._read().get(key_id) if _KEY_ID.match(key_id) else None
        if record is None:
            raise ApiKeyNotFoundError(f"no API key has id {key_id!r}", key_id=key_id)
        return record

    def revoke(self, key_id: str, revoked_by: str) -> ApiKeyRecord:
        """Revoke ``key_id`` (revoking a revoked key changes nothing) and return its record.

        Raises:
            ApiKeyNotFoundError: No key has this id.
        """
        with self._lock:
            records = self._read()
            record = records.get(key_id) if _KEY_ID.match(key_id) else None
            if record is None:
                raise ApiKeyNotFoundError(f"no API key has id {key_id!r}", key_id=key_id)
            if record.active:
                record = replace(record, revoked_at=utc_now(), revoked_by=revoked_by)
                records[key_id] = record
                self._write(records)
        return record

    # -- checks ----------------------------------------------------------------------------
    def authenticate(self, presented: str | None) -> Principal:
        """Return who ``presented`` (the X-API-Key header value) belongs to.

        Raises:
            AuthenticationError: No key, an unknown key, or a revoked one.
        """
        if not presented:
            raise AuthenticationError("the X-API-Key header is missing")
        if len(presented) > MAX_KEY_LENGTH:
            raise AuthenticationError("the API key in X-API-Key is not valid")
        key_id = _key_id(presented)
        record = self._records(key_id).get(key_id) if key_id else None
        salt, expected = (record.salt, record.hash) if record else (_DUMMY_SALT, _DUMMY_HASH)
        stored_ok = hmac.compare_digest(hash_key(presented, salt), expected)
        boot_ok = False
        if self._bootstrap is not None:
            boot_salt, boot_hash = self._bootstrap
            boot_ok = hmac.compare_digest(hash_key(presented, boot_salt), boot_hash)
        if record is not None and stored_ok:
            if not record.active:
                raise AuthenticationError(f"the API key {record.id} has been revoked")
            return Principal(record.id, record.name, record.role)
        if boot_ok:
            return Principal(BOOTSTRAP_ID, BOOTSTRAP_NAME, Role.admin)
        raise AuthenticationError("the API key in X-API-Key is not valid")

    @staticmethod
    def authorise(principal: Principal, scope: Scope) -> None:
        """Refuse a caller whose role does not grant ``scope``.

        Raises:
            PermissionDeniedError: The role lacks the scope.
        """
        if principal.allows(scope):
            return
        granted = ", ".join(role.value for role in roles_with(scope))
        raise PermissionDeniedError(
            f"role {principal.role.value!r} does not grant scope {scope.value!r} "
            f"(granted to: {granted})",
            scope=scope.value,
        )
