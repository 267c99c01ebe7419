"""An idle worker catches up with other workers' events by itself, not on its next request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from needgraph.api.metrics import ApiMetrics
from needgraph.api.services.model_slot import ModelSlot
from needgraph.config import Settings
from needgraph.graph.sqlite import SqliteStore
from needgraph.ingest.events import Event, EventKind
from needgraph.ontology.graph_schema import GRAPH_SCHEMA
from needgraph.reasoning.live import apply_event
from needgraph.reasoning.runtime import Reasoner
from tests.ingest.conftest import tiny_ontology
from tests.reasoning.test_live import Trained, copy_store, pick, snapshot, trained

__all__ = ["trained"]  # the module fixture, shared with test_live


@contextmanager
def two_workers(trained: Trained, tmp_path: Path,
                idle_sync_s: float) -> Iterator[tuple[ModelSlot, Reasoner]]:
    """A serving slot (model loaded) and another worker's reasoner, on one store file."""
    db, model_path, _ = trained
    path = copy_store(db, tmp_path / "graph.db")
    mine, theirs = (SqliteStore(path, schema=GRAPH_SCHEMA) for _ in range(2))
    slot = ModelSlot(mine, Settings(store=f"sqlite:///{path}", model_path=str(model_path)),
                     ApiMetrics(), preload_text=False, idle_sync_s=idle_sync_s)
    try:
        slot.load()._ontology = tiny_ontology()
        other = Reasoner.open(theirs, model_path)
        other._ontology = tiny_ontology()
        yield slot, other
    finally:
        slot.close()
        mine.close()
        theirs.close()


def test_an_idle_worker_catches_up_in_its_answer_thread(trained: Trained, tmp_path: Path) -> None:
    with two_workers(trained, tmp_path, idle_sync_s=0.05) as (slot, other):
        idle = slot.require()
        quiet = pick(trained[2], 3, complains=False)
        before = snapshot(other, quiet)
        threads: set[str] = set()
        sync = slot._sync
        assert sync is not None
        catch_up = sync.catch_up

        def watched(reasoner: Reasoner) -> int:
            threads.add(threading.current_thread().name)
            return catch_up(reasoner)

        sync.catch_up = watched  # type: ignore[method-assign]
        for i, c in enumerate(quiet):
            apply_event(other, Event(c, EventKind.TAG_CHANGE, tag="tag.monthly_charge",
                                     value=400.0 + 10 * i))
        assert snapshot(other, quiet) != before
        deadline = time.monotonic() + 10
        while sync.refreshed < len(quiet) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sync.refreshed == len(quiet)  # no request was made
        assert threads and all(t.startswith("needgraph-answer") for t in threads)
        assert slot.answers.submit(lambda: snapshot(idle, quiet)).result() == snapshot(other, quiet)


def test_without_idle_sync_nothing_is_caught_up_until_a_request(
    trained: Trained, tmp_path: Path
) -> None:
    with two_workers(trained, tmp_path, idle_sync_s=0) as (slot, other):
        (quiet,) = pick(trained[2], 1, complains=False)
        apply_event(other, Event(quiet, EventKind.TAG_CHANGE, tag="tag.monthly_charge",
                                 value=420.0))
        time.sleep(0.3)
        assert slot._sync is not None and slot._sync.refreshed == 0
        slot.serving()  # a request catches up
        assert slot._sync.refreshed == 1
