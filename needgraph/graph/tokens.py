"""The write token of a graph store: a fresh random value around every write.

:class:`WriteTokens` is mixed into :class:`~needgraph.graph.base.GraphStore`; it keeps the token in
the store's own metadata (``_get_meta`` / ``_set_meta``), so every backend has it for free and
reading it costs one metadata lookup. Caches of data derived from the store (the export cache of
:mod:`needgraph.reasoning.export_cache`) key on it.
"""

from __future__ import annotations

import secrets
import time
from abc import abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager, suppress

#: Metadata entry holding the write token (see :meth:`WriteTokens.write_token`).
WRITE_TOKEN_META = "needgraph.write_token"


def fresh_token() -> str:
    """A new write token: nanosecond clock + 64 random bits (never repeats in practice)."""
    return f"{time.time_ns():x}-{secrets.token_hex(8)}"


class WriteTokens:
    """Write-token bookkeeping over a store's metadata hooks."""

    @abstractmethod
    def _set_meta(self, name: str, value: str) -> None: ...

    @abstractmethod
    def _get_meta(self, name: str) -> str | None: ...

    def write_token(self) -> str | None:
        """An opaque value that changes whenever nodes or relationships may have changed.

        Every public write of nodes or relationships (``upsert_nodes``,
        ``upsert_relationships``, ``write_batch``, ``delete_node``, ``relink``, ``merge_nodes``,
        ``clear``) stores a fresh random token before it starts and after it ends
        (``write_batch`` inside its own transaction), so a write that fails half way never leaves
        an earlier token in place. Equal tokens therefore mean unchanged nodes and
        relationships, which is what the export cache relies on. Metadata alone
        (:meth:`set_meta`: ontology versions, job checkpoints, API keys) leaves it unchanged.
        Writes that bypass this interface (raw SQL or Cypher, older needgraph versions) do not
        change it.

        Returns:
            The current token, or ``None`` for a store never written through a version that
            keeps one (see :meth:`ensure_write_token`). One metadata read.
        """
        return self._get_meta(WRITE_TOKEN_META)

    def ensure_write_token(self) -> str:
        """Return the write token, first storing one if the store has none (a metadata write)."""
        token = self.write_token()
        if token is None:
            token = self._bump_write_token()
        return token

    def _bump_write_token(self) -> str:
        token = fresh_token()
        self._set_meta(WRITE_TOKEN_META, token)
        return token

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Fresh token before the write and after it, also when it fails half way."""
        self._bump_write_token()
        try:
            yield
        except BaseException:
            with suppress(Exception):  # the write's own error is the one to report
                self._bump_write_token()
            raise
        self._bump_write_token()
