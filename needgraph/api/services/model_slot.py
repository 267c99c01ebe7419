"""The service's one :class:`~needgraph.reasoning.runtime.Reasoner`: loading, reloading, readiness.

At start-up :meth:`ModelSlot.start` loads the configured model (``NEEDGRAPH_MODEL``, else the
newest artifact of ``NEEDGRAPH_MODEL_DIR``) in a background thread, so ``/livez`` answers at once
and ``/readyz`` says 503 ("model loading") until the graph is exported and the full-graph pass
is cached. When no model is configured nothing heavy is imported (no torch). A reload builds the
new reasoner beside the old one and swaps them; requests in flight finish on the old one; a
failed reload keeps the old model.

With several serving processes on one store (``needgraph serve --workers N``), :meth:`ModelSlot.
serving` first brings the reasoner up to date with the events and outcomes the other processes
recorded (:class:`~needgraph.reasoning.live_sync.LiveSync`: one metadata read when nothing
changed).
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from needgraph.api.errors import ModelNotLoadedError
from needgraph.api.metrics import ApiMetrics
from needgraph.api.services.answer_queue import AnswerQueue
from needgraph.config import Settings
from needgraph.errors import ModelNotFoundError, NeedgraphError
from needgraph.graph.base import GraphStore

if TYPE_CHECKING:
    from needgraph.reasoning.live_sync import LiveSync
    from needgraph.reasoning.runtime import Reasoner

log = logging.getLogger("needgraph.api")
SlotState = Literal["absent", "loading", "ready", "failed"]


class ModelSlot:
    """Holds the loaded reasoner (or why there is none).

    Args:
        store: The service's open store.
        settings: Where the model is (``model_path``, ``model_dir``).
        metrics: Records load time and the ``needgraph_model_loaded`` gauge.
        sync_interval_s: Look for changes of processes outside this server at most this often
            (0: before every reasoning request; see :class:`~needgraph.reasoning.live_sync.
            LiveSync`).
        preload_text: Load the text linker for events with the model (before ``/readyz``
            says ready), not on the first text event.
        idle_sync_s: Catch up this often while no request does (0: never), so that a worker
            without requests does not owe its first one every event other workers recorded
            meanwhile (at 3-4 ms per changed customer: 2 s after 550 events).
        sibling_writes: The other workers' count of logged writes (:meth:`~needgraph.api.
            balance.WorkerTable.sibling_writes`; ``None``: the only worker). A request after a
            sibling's write catches up with it, whatever ``sync_interval_s`` says.
    """

    def __init__(self, store: GraphStore, settings: Settings, metrics: ApiMetrics,
                 sync_interval_s: float = 0.0, preload_text: bool = True,
                 idle_sync_s: float = 0.0,
                 sibling_writes: Callable[[], int] | None = None) -> None:
        self.store = store
        self.sibling_writes = sibling_writes
        self.settings = settings
        self.metrics = metrics
        self.sync_interval_s = sync_interval_s
        self.preload_text = preload_text
        self.idle_sync_s = idle_sync_s
        self._closing = threading.Event()
        self._idle_sync_queued = False
        self._idle_thread: threading.Thread | None = None
        self._sync: LiveSync | None = None
        self.state: SlotState = "absent"
        self.error: NeedgraphError | None = None
        self.loaded_at: str | None = None
        self._reasoner: Reasoner | None = None
        self._load_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: The one thread that answers with the model: events first, reads in arrival order
        #: (see :func:`needgraph.api.deps.answer_in_order` and :func:`~.deps.answer_first`).
        self.answers = AnswerQueue("needgraph-answer")

    # -- loading --------------------------------------------------------------------------
    def model_path(self) -> Path:
        """The artifact to load: ``NEEDGRAPH_MODEL``, else the newest in the model directory.

        Raises:
            ModelNotFoundError: Neither names an artifact.
        """
        from needgraph.reasoning.artifacts import latest_model

        if self.settings.model_path:
            return Path(self.settings.model_path)
        return latest_model(self.settings.model_dir)

    def configured(self) -> bool:
        """Whether a model is configured (a file check only: nothing heavy is imported)."""
        try:
            return self.model_path().is_file()
        except ModelNotFoundError:
            return False

    def start(self) -> None:
        """Load the configured model in a background thread (nothing when none is configured)."""
        if not self.configured():
            self.error = self._absent()
            log.info("no model configured: reasoning routes answer 503 until one is loaded")
            return
        self.state = "loading"
        self._thread = threading.Thread(target=self._load_quietly, name="model-load", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the start-up load to end (tests, benchmarks)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _load_quietly(self) -> None:
        try:
            self.load()
        except NeedgraphError:
            pass  # recorded in self.error and logged by load()
        except Exception as exc:  # never let the loader thread die silently
            log.error("model load failed", extra={"error_type": type(exc).__name__})

    def load(self) -> Reasoner:
        """Load the configured model now and make it the one that answers.

        Returns:
            The new reasoner.

        Raises:
            ModelNotFoundError: No artifact is configured or the file is missing.
            ModelMismatchError: Another ontology version, or a graph it cannot encode.
        """
        from needgraph.reasoning.live_sync import LiveSync
        from needgraph.reasoning.runtime import Reasoner

        with self._load_lock:
            started = time.perf_counter()
            previous = self.state
            if self._reasoner is None:
                self.state = "loading"
            try:
                path = self.model_path()
                _set_threads(self.settings.inference_threads)
                sync = LiveSync(self.store, self.sync_interval_s,
                                sibling_writes=self.sibling_writes)
                sync.snapshot()  # before the export: later changes are caught up, none missed
                reasoner = Reasoner.open(self.store, path)
                reasoner.warm_up()  # full-graph pass, offers, cause index: now, not on a request
                if self.preload_text:
                    self._preload_text()
            except NeedgraphError as exc:
                self.error = exc
                self.state = "ready" if self._reasoner is not None else "failed"
                if previous == "absent" and isinstance(exc, ModelNotFoundError):
                    self.state = "absent"
                log.warning("model not loaded: %s", exc.detail, extra={"problem": exc.type_slug})
                raise
            self._reasoner, self._sync = reasoner, sync
            self._start_idle_sync()
            freeze_heap()
            self.state = "ready"
            self.error = None
            self.loaded_at = datetime.now(UTC).isoformat(timespec="seconds")
            seconds = time.perf_counter() - started
            self.metrics.inference.labels("load").observe(seconds)
            self.metrics.model_loaded.set(1)
            log.info(
                "model loaded",
                extra={"model_id": reasoner.info.model_id, "seconds": round(seconds, 2)},
            )
            return reasoner

    def _preload_text(self) -> None:
        """Warm the events' text linker now (seconds), not on the first text event.

        When it cannot load (no ontology, no NLP extra, a broken embedding model) the model
        still loads; text events then fail with their own error.
        """
        from needgraph.ingest.event_checks import preload_pipeline

        started = time.perf_counter()
        try:
            preload_pipeline(self.store)
        except NeedgraphError as exc:
            log.warning("text linker not preloaded: %s", exc.detail,
                        extra={"problem": exc.type_slug})
            return
        except Exception as exc:  # never let the text side keep the model from serving
            log.warning("text linker not preloaded", extra={"error_type": type(exc).__name__})
            return
        self.metrics.text_linker_loaded.set(1)
        log.info("text linker loaded",
                 extra={"seconds": round(time.perf_counter() - started, 2)})

    # -- use ------------------------------------------------------------------------------
    def require(self) -> Reasoner:
        """The loaded reasoner.

        Raises:
            ModelNotLoadedError: None is loaded (503 naming why: none, loading, failed).
        """
        reasoner = self._reasoner
        if reasoner is None:
            raise self._not_loaded()
        return reasoner

    def current(self) -> Reasoner | None:
        """The loaded reasoner, or ``None``."""
        return self._reasoner

    def serving(self) -> Reasoner:
        """The loaded reasoner, caught up with other processes' events and outcomes.

        Raises:
            ModelNotLoadedError: None is loaded (503 naming why: none, loading, failed).
        """
        reasoner, sync = self._reasoner, self._sync
        if reasoner is None:
            raise self._not_loaded()
        if sync is not None:
            refreshed = sync.catch_up(reasoner)
            if refreshed:
                self.metrics.live_synced.inc(refreshed)
        return reasoner

    def close(self) -> None:
        """Stop the answer thread after the answers it has started or queued (at shutdown)."""
        self._closing.set()
        self.answers.shutdown(wait=True)

    def _start_idle_sync(self) -> None:
        """Start the thread that queues a catch-up every ``idle_sync_s`` (once per slot)."""
        if self.idle_sync_s <= 0 or self._idle_thread is not None:
            return
        self._idle_thread = threading.Thread(target=self._queue_idle_syncs,
                                             name="needgraph-idle-sync", daemon=True)
        self._idle_thread.start()

    def _queue_idle_syncs(self) -> None:
        """Queue a catch-up in the answer thread, unless one is still queued, until closing.

        It runs in turn with the requests; when requests keep the thread busy, each of them
        has caught up already and the queued one finds nothing to do (one metadata read).
        """
        while not self._closing.wait(self.idle_sync_s):
            if self._idle_sync_queued:
                continue
            self._idle_sync_queued = True
            try:
                self.answers.submit(self._idle_sync)
            except RuntimeError:  # the answer thread was shut down
                return

    def _idle_sync(self) -> None:
        self._idle_sync_queued = False
        try:
            self.serving()
        except NeedgraphError:
            pass  # no model loaded (any more): nothing to catch up
        except Exception as exc:  # the next request catches up, or says why it cannot
            log.warning("idle catch-up failed", extra={"error_type": type(exc).__name__})

    def serving_or_none(self) -> Reasoner | None:
        """Like :meth:`serving`, but ``None`` when no model is loaded."""
        return self.serving() if self._reasoner is not None else None

    def check(self) -> None:
        """Readiness check ``model``: raises :class:`ModelNotLoadedError` while none is loaded."""
        self.require()

    def info(self) -> dict[str, Any]:
        """The loaded model's :class:`~needgraph.reasoning.artifacts.ModelInfo` as data."""
        reasoner = self.require()
        return {**reasoner.info.to_dict(), "loaded_at": self.loaded_at or ""}

    def _absent(self) -> ModelNotFoundError:
        where = self.settings.model_path or self.settings.model_dir
        return ModelNotFoundError(f"no trained model at {str(where)!r}", model=str(where))

    def _not_loaded(self) -> ModelNotLoadedError:
        if self.state == "loading":
            return ModelNotLoadedError(
                "no model loaded: the model is loading; retry in a few seconds",
                hint="Poll /readyz until it answers 200.",
                state=self.state,
            )
        cause = self.error or self._absent()
        return ModelNotLoadedError(
            f"no model loaded: {cause.detail}; run `needgraph train` (or set NEEDGRAPH_MODEL), "
            "then restart the service or POST /v1/model/reload",
            state=self.state,
            cause=cause.type_slug,
        )


def _set_threads(threads: int) -> None:
    """Serve with ``threads`` torch threads (imports torch: only once a model file exists)."""
    import torch

    torch.set_num_threads(threads)


def freeze_heap() -> None:
    """Take every object alive now out of the cyclic garbage collector's scans (``gc.freeze``).

    A loaded 100k-customer graph holds millions of container objects; each full collection
    scanned them all (0.3-0.4 s: a request stalled behind it, about one event in 400). A
    replaced model's objects are freed by reference counting; the heap is unfrozen and
    collected first, so cycles among them are still collected once.
    """
    gc.unfreeze()
    gc.collect()
    gc.freeze()
