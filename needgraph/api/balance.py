"""Kept-alive connections spread evenly over the workers of ``needgraph serve --workers N``.

Each worker listens on its own ``SO_REUSEPORT`` socket (:mod:`needgraph.api.workers`), and the
kernel hashes every new connection to one of them. Clients that keep their connections alive (an
engine's connection pool, a load test) stay where the hash put them: 16 connections over 2 workers
split 10/6 about as often as 8/8. Each worker answers its reads one at a time, in arrival order,
so the clients of the worker with 10 wait for 10 answers where 8 would be fair: its answers came
later for the whole life of the connections.

Each worker counts its open connections in its own slot of a small table that every worker maps
into memory (a file the parent creates; :func:`create_table`). A worker that holds more than its
share (``ceil(total / workers)``) answers its next response with ``Connection: close``; the client
opens a new connection, which the kernel hashes anew, so the split drifts to even and then stays.
A client pays one reconnect (well under a millisecond on a local network) per move.

Everything about connections runs on a worker's event-loop thread (the protocol's
``connection_made`` and ``connection_lost``, the middleware), so those counters need no lock; a
slot has one writer.

The same table carries each worker's count of **logged writes** (events and outcomes it
recorded, :meth:`WorkerTable.wrote`, called after the write commits). A worker that has to answer
in step with its siblings compares their counts with the last ones it saw (:meth:`WorkerTable.
sibling_writes`, a few memory reads) instead of reading the store's write token before every
answer (a round trip to Neo4j); see :class:`~needgraph.reasoning.live_sync.LiveSync`.
"""

from __future__ import annotations

import logging
import mmap
import os
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from needgraph.api.metrics import ApiMetrics

log = logging.getLogger("needgraph.api")

#: Environment variable naming the table file (set by the parent for its workers).
TABLE_ENV = "NEEDGRAPH_WORKER_TABLE"
#: Seconds a connection told to close counts as closing (it closes milliseconds after its answer).
CLOSE_WAIT_S = 1.0
_SLOT = 3  # int64 per worker: process id, open connections, logged writes (never reset)
_CLOSE = (b"connection", b"close")


def create_table(workers: int, folder: str | os.PathLike[str] | None = None) -> Path:
    """Create an empty table for ``workers`` workers; return its path (the caller deletes it).

    Args:
        workers: Number of worker processes (> 0).
        folder: Where to put the file (default: ``/dev/shm`` when it exists, else the temp dir).
    """
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    if folder is None and Path("/dev/shm").is_dir():
        folder = "/dev/shm"
    fd, name = tempfile.mkstemp(prefix="needgraph-workers-", dir=folder)
    try:
        os.write(fd, bytes(8 * _SLOT * workers))
    finally:
        os.close(fd)
    return Path(name)


class WorkerTable:
    """This worker's slot in the shared table, and its view of every worker's connections.

    Args:
        path: The table file from :func:`create_table`.

    Raises:
        OSError: The file cannot be opened or locked.
        RuntimeError: Every slot belongs to a live process.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        import fcntl

        self.path = Path(path)
        with self.path.open("r+b") as handle:  # the mapping outlives the file object
            self._cells = memoryview(mmap.mmap(handle.fileno(), 0)).cast("q")
            self.workers = len(self._cells) // _SLOT
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # workers start together
            try:
                self.index = self._claim()
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        self.open = 0
        # when each connection told to close was told (monotonic s); one leaves per close
        self._closing: deque[float] = deque()
        self._writes_lock = threading.Lock()  # writes are counted from any thread

    def _claim(self) -> int:
        """Take the first free slot (never used, or left by a process that is gone)."""
        for i in range(self.workers):
            pid = self._cells[i * _SLOT]
            if pid == 0 or pid == os.getpid() or not _alive(pid):
                self._cells[i * _SLOT] = os.getpid()
                self._cells[i * _SLOT + 1] = 0
                return i
        raise RuntimeError(f"every slot of {self.path} belongs to a running worker")

    def counts(self) -> list[int]:
        """Open connections per worker slot (0 for a slot not claimed yet)."""
        return [self._cells[i * _SLOT + 1] for i in range(self.workers)]

    def opened(self) -> None:
        """A connection was accepted."""
        self.open += 1
        self._cells[self.index * _SLOT + 1] = self.open

    def closed(self) -> None:
        """A connection ended."""
        self.open = max(0, self.open - 1)
        if self._closing:
            self._closing.popleft()
        self._cells[self.index * _SLOT + 1] = self.open

    def wrote(self) -> None:
        """This worker committed a logged write (an event or an outcome): count it."""
        with self._writes_lock:
            self._cells[self.index * _SLOT + 2] += 1

    def sibling_writes(self) -> int:
        """Logged writes the other workers committed, summed (only ever grows).

        A slot's count is never reset (a worker that takes over a dead one's slot counts on),
        so the sum changes whenever any sibling wrote since the last look.
        """
        return sum(self._cells[i * _SLOT + 2] for i in range(self.workers) if i != self.index)

    def should_close(self) -> bool:
        """Whether to close the connection of the response about to start (and count it).

        True while this worker keeps more connections than ``ceil(total / workers)`` once the
        ones already told to close are gone. A told connection closes right after its answer;
        one told in the last :data:`CLOSE_WAIT_S` and not closed yet is counted as gone. Older
        ones are forgotten: the answer went to a client that had left already.
        """
        now = time.monotonic()
        while self._closing and now - self._closing[0] > CLOSE_WAIT_S:
            self._closing.popleft()
        total = sum(self._cells[i * _SLOT + 1] for i in range(self.workers))
        share = -(-total // self.workers)
        if self.open - len(self._closing) > share:
            self._closing.append(now)
            return True
        return False

    def release(self) -> None:
        """Give the slot back (at shutdown); the table stays usable for reading counts."""
        self._cells[self.index * _SLOT + 1] = 0
        self._cells[self.index * _SLOT] = 0


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (a worker that died leaves its slot behind)."""
    try:
        os.kill(pid, 0)  # signal 0: only checks
        return True
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True


_TABLE: WorkerTable | None = None
_LOOKED = False


def worker_table() -> WorkerTable | None:
    """This process's :class:`WorkerTable` when the parent made one (``None``: one worker)."""
    global _TABLE, _LOOKED
    if not _LOOKED:
        _LOOKED = True
        path = os.environ.get(TABLE_ENV)
        if path:
            try:
                _TABLE = WorkerTable(path)
            except (OSError, RuntimeError, ImportError) as exc:
                log.warning("connections are not rebalanced across workers: %s", exc)
    return _TABLE


class RebalanceMiddleware:
    """ASGI middleware: ``Connection: close`` on responses of a worker above its share.

    Args:
        app: The wrapped application.
        metrics: Counts the connections closed (``needgraph_connections_rebalanced_total``).
    """

    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on; mark its response to close the connection when over share."""
        table = _TABLE
        if table is None or scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_closing(message: Message) -> None:
            if message["type"] == "http.response.start" and table.should_close():
                message = {**message, "headers": [*message.get("headers", []), _CLOSE]}
                self.metrics.rebalanced.inc()
            await send(message)

        await self.app(scope, receive, send_closing)
