"""Keep one process's loaded graph current with events and outcomes other processes recorded.

Each serving process (``needgraph serve --workers N``) holds its own :class:`~needgraph.
reasoning.runtime.Reasoner`. Before it answers a reasoning request, :meth:`LiveSync.catch_up`
reads the store's write token (one metadata read); when it changed since the last look, it reads
the other writers' change logs (:mod:`needgraph.ingest.change_log`) from where it stopped,
re-reads the star of every customer named there (:func:`needgraph.reasoning.live.
refresh_customer`) and, when an outcome was logged, drops the cached offers so acceptance rates
include it. The token is read before the logs, so a write committed during a catch-up changes it
again and the next request looks again.

Reading the token costs a round trip to the store before every answer (measured at 100k on
Neo4j with 16 clients: 290 recommendations/s with it, 430-610 without). The workers of one
server therefore also count their logged writes in memory they share (``sibling_writes``, bumped
after each write commits): a worker looks at the store at once when a sibling's count moved, and
otherwise at most every ``interval_s`` for writers outside the server (another host, the CLI). An
answer therefore reflects every event whose response was sent before the request arrived, in any
worker of the server, and other processes' events within ``interval_s``; with ``interval_s`` 0
it looks before every answer and reflects every process's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from needgraph.errors import CustomerNotFoundError
from needgraph.ingest.change_log import ChangeLog, change_log

if TYPE_CHECKING:
    from needgraph.graph.base import GraphStore
    from needgraph.reasoning.runtime import Reasoner

__all__ = ["LiveSync"]

log = logging.getLogger("needgraph.live")
_UNSEEN = object()


class LiveSync:
    """Where one reasoner stands in every other writer's change log.

    Args:
        store: The store the reasoner serves.
        interval_s: Look at the store at most this often for writes the sibling count does not
            cover (0: before every request).
        changes: This process's change log (default: :func:`~needgraph.ingest.change_log.
            change_log` of ``store``); its own entries are skipped (applied when written).
        sibling_writes: Returns how many logged writes the other workers of this server have
            committed (a sum that only grows; ``None``: no siblings). When it moved since the
            last look, the next catch-up looks at the store whatever ``interval_s`` says.
    """

    def __init__(self, store: GraphStore, interval_s: float = 0.0,
                 changes: ChangeLog | None = None,
                 sibling_writes: Callable[[], int] | None = None) -> None:
        self.store = store
        self.interval_s = interval_s
        self.changes = changes or change_log(store)
        self.sibling_writes = sibling_writes
        self.cursors: dict[str, int] = {}
        self.refreshed = 0
        self._token: object = _UNSEEN
        self._siblings: object = _UNSEEN
        self._checked = 0.0
        self._lock = threading.Lock()

    def snapshot(self) -> None:
        """Start from the logs' current heads (call before the reasoner exports the store).

        Entries written between this and the export are applied again on the first catch-up
        (re-reading a star is idempotent); none are missed.
        """
        self.cursors = self.changes.heads()

    def catch_up(self, reasoner: Reasoner) -> int:
        """Apply the changes other processes logged since the last look.

        Returns:
            The number of customers refreshed (0 when the store is unchanged).
        """
        now = time.monotonic()
        # read before the token: every write counted here committed before the token is read
        siblings = None if self.sibling_writes is None else self.sibling_writes()
        if (self.interval_s and now - self._checked < self.interval_s
                and siblings == self._siblings):
            return 0
        token = self.store.write_token()
        if token == self._token:
            self._checked, self._siblings = now, siblings
            return 0
        with self._lock:  # one catch-up at a time; the others wait for it, then look again
            if token == self._token:
                self._siblings = siblings
                return 0
            changes = []
            for writer, head in self.changes.heads().items():
                after = self.cursors.get(writer, 0)
                if head > after:
                    changes += self.changes.read(writer, after, head)
                    self.cursors[writer] = head
            customers = list(dict.fromkeys(c.customer for c in changes))
            if customers:
                self._apply(reasoner, customers, any(c.kind == "outcome" for c in changes))
            self._token = token
            self._checked, self._siblings = now, siblings
            return len(customers)

    def _apply(self, reasoner: Reasoner, customers: list[str], offers_changed: bool) -> None:
        from needgraph.reasoning.live import refresh_customer

        started = time.perf_counter()
        with reasoner.lock:
            if offers_changed:
                from needgraph.reasoning.recommend import invalidate_offers

                invalidate_offers(reasoner.store)
            for customer in customers:
                try:
                    refresh_customer(reasoner, customer)
                except CustomerNotFoundError:  # deleted since: nothing to refresh
                    continue
        self.refreshed += len(customers)
        log.debug("caught up with %d changed customers in %.1f ms", len(customers),
                  1000 * (time.perf_counter() - started))
