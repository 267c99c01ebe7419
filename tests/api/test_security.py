"""Key storage and settings without a server (both stores for the key ring)."""

from __future__ import annotations

import contextlib
import json

import pytest

from needgraph.config import Settings
from needgraph.errors import ConfigError
from needgraph.graph.base import GraphStore
from needgraph.security.errors import (
    ApiKeyNotFoundError,
    AuthenticationError,
    InvalidApiKeyRequestError,
    PermissionDeniedError,
)
from needgraph.security.keys import KEYS_META, KeyRing, hash_key
from needgraph.security.roles import ROLE_SCOPES, Role, Scope


def test_keys_are_stored_hashed_with_a_salt(store: GraphStore) -> None:
    ring = KeyRing(store, cache_seconds=0)
    first = ring.create("ana", Role.editor, created_by="test")
    second = ring.create("bo", Role.editor, created_by="test")
    raw = store.get_meta(KEYS_META) or ""
    assert first.key not in raw and second.key not in raw
    records = {r["id"]: r for r in json.loads(raw)["keys"]}
    one = records[first.record.id]
    assert one["hash"] == hash_key(first.key, one["salt"])
    assert records[second.record.id]["salt"] != one["salt"]
    assert "key" not in repr(first) or first.key not in repr(first)
    principal = ring.authenticate(first.key)
    assert (principal.name, principal.role) == ("ana", Role.editor)
    ring.revoke(first.record.id, "test")
    with pytest.raises(AuthenticationError, match="revoked"):
        ring.authenticate(first.key)
    with pytest.raises(ApiKeyNotFoundError):
        ring.revoke("000000000000", "test")
    assert KeyRing(store).authenticate(second.key).name == "bo"  # another process sees it


def test_bootstrap_key_and_scopes(store: GraphStore) -> None:
    ring = KeyRing(store, bootstrap_admin_key="a-very-long-bootstrap-key")
    admin = ring.authenticate("a-very-long-bootstrap-key")
    assert admin.role is Role.admin and store.get_meta(KEYS_META) is None
    for missing in (None, ""):
        with pytest.raises(AuthenticationError, match="missing"):
            ring.authenticate(missing)
    analyst = ring.create("viewer", "analyst", created_by="test")
    principal = ring.authenticate(analyst.key)
    KeyRing.authorise(principal, Scope.read)
    with pytest.raises(PermissionDeniedError, match="ontology:write"):
        KeyRing.authorise(principal, Scope.ontology_write)
    with pytest.raises(InvalidApiKeyRequestError):
        ring.create("bad\nname", Role.admin, created_by="test")
    assert ROLE_SCOPES[Role.admin] == frozenset(Scope)
    assert Scope.events in ROLE_SCOPES[Role.engine] and Scope.keys not in ROLE_SCOPES[Role.editor]



def test_reads_store_tells_when_authenticating_would_read_the_store(
    store: GraphStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The API authenticates on its event loop only when the cache decides without a read."""
    now = [100.0]
    ring = KeyRing(store, cache_seconds=2.0, clock=lambda: now[0])
    issued = ring.create("eve", Role.engine, created_by="test")
    reads: list[str] = []
    real_get_meta = store.get_meta
    monkeypatch.setattr(store, "get_meta", lambda key: reads.append(key) or real_get_meta(key))

    def reads_when_authenticating(presented: str | None) -> bool:
        predicted = ring.reads_store(presented)
        before = len(reads)
        with contextlib.suppress(AuthenticationError):
            ring.authenticate(presented)
        assert (len(reads) > before) is predicted, presented
        return predicted

    assert reads_when_authenticating(issued.key) is False  # create() filled the cache
    now[0] += 1.0
    assert reads_when_authenticating(issued.key) is False
    unknown = issued.key.replace(issued.record.id, "ffffffffffff")
    assert reads_when_authenticating(unknown) is True  # an id the cache lacks: look again
    assert reads_when_authenticating(unknown) is False  # ... but not on every request
    now[0] += 2.5
    assert reads_when_authenticating(issued.key) is True  # the cache is older than 2 s
    now[0] += 2.5  # stale again, but keys that are not well formed are never looked up
    for nothing in (None, "", "x" * 10_000, "not-a-key-of-ours"):
        assert reads_when_authenticating(nothing) is False

@pytest.mark.parametrize("key", ["changeme", "secret", "short-key", "replace-with-a-real-secret"])
def test_placeholder_admin_key_is_refused_outside_dev(key: str) -> None:
    for env in ("test", "prod"):
        with pytest.raises(ConfigError, match="NEEDGRAPH_ADMIN_KEY"):
            Settings(environment=env, admin_key=key)
    assert Settings(environment="dev", admin_key=key).admin_key.get_secret_value() == key
    assert Settings(environment="prod", admin_key="").admin_key.get_secret_value() == ""
    assert Settings(environment="prod", admin_key="x" * 32, store="sqlite:///x.db")
