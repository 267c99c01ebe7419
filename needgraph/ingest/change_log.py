"""The store-side log of customers changed by events and outcomes, read by other serving processes.

Several processes may serve one store (``needgraph serve --workers 2``, or several hosts). Each
keeps its own copy of the graph in memory; an event recorded by one must reach the others'
predictions and acceptance rates. Every process that records events or outcomes is a *writer*
with a random id and an append-only log in the store's metadata, written in the same transaction
as the event itself (so the log never names a change that was not stored, and a stored change is
always logged)::

    live.writers            JSON [{"id": "3f2a…", "since": "2026-11-23T07:40:00+00:00"}, …]
    live.log.<id>.head      the writer's last sequence number (int)
    live.log.<id>.<seq>     JSON {"customer": "C-1023", "kind": "event" | "outcome"}

A reader (:class:`~needgraph.reasoning.live_sync.LiveSync`) compares the store's write token
(:meth:`GraphStore.write_token`, one metadata read, changed by every write of nodes or
relationships) with the last one it saw; only when it changed does it read the writers' heads and
the new entries. A writer holds a process-wide lock from taking a sequence number until the
transaction commits, so a reader never sees a head whose entries are not all committed.

Registration is a read-modify-write of ``live.writers`` without a compare-and-set (the store
interface has none): two processes registering at the same instant could drop one id. A writer
therefore checks its registration before every logged write and registers again when missing;
readers keep their position per writer id, so nothing logged is lost, only seen at that writer's
next write. Writers registered more than :data:`WRITER_TTL_S` ago are dropped by the next
registration (a long-running writer re-registers itself at its next write). No torch.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from needgraph.graph.base import GraphStore

__all__ = ["WRITERS_META", "WRITER_TTL_S", "Change", "ChangeLog", "change_log"]

WRITERS_META = "live.writers"
LOG_PREFIX = "live.log."
#: Seconds after which a registered writer may be dropped by a newer registration.
WRITER_TTL_S = 24 * 3600.0
_REGISTER_TRIES = 5
ChangeKind = Literal["event", "outcome"]


@dataclass(frozen=True)
class Change:
    """One logged change: whose star changed, and whether offers (acceptance rates) did."""

    writer: str
    seq: int
    customer: str
    kind: ChangeKind


def _head_key(writer: str) -> str:
    return f"{LOG_PREFIX}{writer}.head"


def _entry_key(writer: str, seq: int) -> str:
    return f"{LOG_PREFIX}{writer}.{seq}"


class ChangeLog:
    """This process's writer log on one store, and reads of every writer's log.

    Args:
        store: The open store (not read until the first write or read: a server starts even
            while the store is down).
        writer: Writer id (default: a fresh random one).
    """

    def __init__(self, store: GraphStore, writer: str | None = None) -> None:
        self.store = store
        self.writer = writer or secrets.token_hex(8)
        self.head = 0  # a fresh id has no entries; a given one is read on first use
        self._read_head = writer is not None
        self._lock = threading.Lock()
        self._committed: list[Callable[[], None]] = []

    def on_commit(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after each logged write of this process commits.

        A serving worker counts its writes where its sibling workers see them, so they look at
        the store only when a sibling wrote (:class:`~needgraph.reasoning.live_sync.LiveSync`).
        It runs under the log's lock, one call at a time, and must not raise.
        """
        self._committed.append(listener)

    # -- writing --------------------------------------------------------------------------
    @contextmanager
    def logging(self, meta: dict[str, str], customer: str, kind: ChangeKind) -> Iterator[None]:
        """Stage a log entry in ``meta`` (a write batch's metadata); the body commits the batch.

        Holds the log's lock until the body returns, so entries commit in sequence order. When
        the body raises, the sequence number is given back (nothing was committed).
        """
        with self._lock:
            if self._read_head:  # an id given by the caller may have logged before
                self.head = int(self.store.get_meta(_head_key(self.writer)) or 0)
                self._read_head = False
            self._register()
            seq = self.head + 1
            meta[_entry_key(self.writer, seq)] = json.dumps(
                {"customer": customer, "kind": kind}, ensure_ascii=False)
            meta[_head_key(self.writer)] = str(seq)
            yield
            self.head = seq
            for listener in self._committed:
                listener()

    def _register(self) -> None:
        """Make sure this writer is listed in ``live.writers`` (see the module docstring)."""
        for _ in range(_REGISTER_TRIES):
            listed = self.writers_listed()
            if any(w.get("id") == self.writer for w in listed):
                return
            cutoff = (datetime.now(UTC) - timedelta(seconds=WRITER_TTL_S)).isoformat()
            kept = [w for w in listed if str(w.get("since", "")) >= cutoff]
            kept.append({"id": self.writer,
                         "since": datetime.now(UTC).isoformat(timespec="seconds")})
            self.store.set_meta(WRITERS_META, json.dumps(kept))

    # -- reading --------------------------------------------------------------------------
    def writers_listed(self) -> list[dict[str, str]]:
        """The registered writers (``[{"id", "since"}]``; empty when none or unreadable)."""
        raw = self.store.get_meta(WRITERS_META)
        try:
            found = json.loads(raw) if raw else []
        except ValueError:
            return []
        return [w for w in found if isinstance(w, dict) and isinstance(w.get("id"), str)]

    def heads(self) -> dict[str, int]:
        """Writer id -> last sequence number, for every other registered writer."""
        out: dict[str, int] = {}
        for w in self.writers_listed():
            if w["id"] != self.writer:
                out[w["id"]] = int(self.store.get_meta(_head_key(w["id"])) or 0)
        return out

    def read(self, writer: str, after: int, upto: int) -> list[Change]:
        """The entries ``after + 1 .. upto`` of ``writer`` (missing or unreadable ones skipped)."""
        out: list[Change] = []
        for seq in range(after + 1, upto + 1):
            raw = self.store.get_meta(_entry_key(writer, seq))
            try:
                item = json.loads(raw) if raw else None
            except ValueError:
                item = None
            if isinstance(item, dict) and isinstance(item.get("customer"), str):
                kind: ChangeKind = "outcome" if item.get("kind") == "outcome" else "event"
                out.append(Change(writer, seq, item["customer"], kind))
        return out


_LOGS: dict[int, ChangeLog] = {}
_LOGS_LOCK = threading.Lock()


def change_log(store: GraphStore) -> ChangeLog:
    """This process's :class:`ChangeLog` on ``store`` (one per open store object)."""
    with _LOGS_LOCK:
        found = _LOGS.get(id(store))
        if found is None or found.store is not store:
            found = _LOGS[id(store)] = ChangeLog(store)
        return found
