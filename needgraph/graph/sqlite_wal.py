"""Checkpoint an SQLite store's write-ahead log in a background thread, not in the writer's.

SQLite's default copies the WAL back into the database file from inside the commit that pushes
the log past 1,000 pages (``wal_autocheckpoint``). That commit then pays for the copy and its
``fsync``: on a 5 GB store one event's write in a few hundred took 0.8 s instead of 2 ms
(``bench/event_steps.py``). :class:`WalCheckpointer` turns the automatic checkpoint off for the
store's connection and runs ``PRAGMA wal_checkpoint(PASSIVE)`` from its own connection every
``interval_s`` seconds instead. A passive checkpoint takes no lock that writers or readers wait
on: it copies the frames no open read transaction still needs and leaves the rest for the next
round, so writes never wait for it.

The thread holds its own connection, never the store, so a store dropped without ``close()``
still stops its checkpointer (``weakref.finalize``). When that connection cannot be opened the
store keeps SQLite's automatic checkpoint. SQLite checkpoints and removes the WAL when the last
connection closes, as before.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import weakref

__all__ = ["CHECKPOINT_INTERVAL_S", "WalCheckpointer"]

log = logging.getLogger("needgraph.graph.sqlite")

#: Seconds between two background checkpoints.
CHECKPOINT_INTERVAL_S = 1.0


class WalCheckpointer:
    """A daemon thread that checkpoints one database file's WAL every ``interval_s`` seconds.

    Args:
        owner: The object whose lifetime bounds the thread (the store); when it is garbage
            collected the thread stops.
        db: The owner's connection; its automatic checkpoint is switched off.
        path: The database file.
        interval_s: Seconds between checkpoints (> 0).

    Raises:
        ValueError: ``interval_s`` is not positive.
    """

    def __init__(
        self,
        owner: object,
        db: sqlite3.Connection,
        path: str,
        interval_s: float = CHECKPOINT_INTERVAL_S,
    ) -> None:
        if interval_s <= 0:
            raise ValueError(f"interval_s must be > 0 seconds, got {interval_s!r}")
        self.path = path
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:  # opened here, so a failure keeps SQLite's own checkpoint rather than none
            own = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            log.warning("WAL of %s is checkpointed inside writes: cannot open a second "
                        "connection (%s)", path, exc)
            return
        db.execute("PRAGMA wal_autocheckpoint=0")
        self._thread = threading.Thread(
            target=_run,
            args=(own, path, interval_s, self._stop),
            name=f"needgraph-wal-checkpoint:{path}",
            daemon=True,
        )
        self._thread.start()
        weakref.finalize(owner, self._stop.set)

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop the thread and close its connection (waits up to ``timeout_s`` seconds)."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout_s)


def _run(db: sqlite3.Connection, path: str, interval_s: float, stop: threading.Event) -> None:
    try:
        while not stop.wait(interval_s):
            try:
                db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            except sqlite3.Error as exc:  # e.g. the file was removed; try again next round
                log.warning("WAL checkpoint of %s failed: %s", path, exc)
    finally:
        db.close()
