"""Reads are answered first come, first served, and a read whose client left is never computed;
an event goes before the waiting reads, and an event whose client left is still applied."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from needgraph.api.deps import answer_in_order
from needgraph.api.errors import ModelNotLoadedError
from needgraph.api.metrics import ApiMetrics
from needgraph.api.services import realtime
from needgraph.api.services.model_slot import ModelSlot
from needgraph.config import Settings
from needgraph.graph.sqlite import SqliteStore
from needgraph.ontology.graph_schema import GRAPH_SCHEMA


@pytest.fixture
def slot(tmp_path: Path) -> Any:
    store = SqliteStore(tmp_path / "g.db", schema=GRAPH_SCHEMA)
    store.setup_schema()
    slot = ModelSlot(store, Settings(store=f"sqlite:///{tmp_path / 'g.db'}",
                                     model_dir=tmp_path / "models"), ApiMetrics())
    yield slot
    slot.close()
    store.close()


def test_reads_run_in_arrival_order_and_a_cancelled_one_never_runs(slot: Any) -> None:
    slot.serving = lambda: "the reasoner"  # a loaded model, without training one
    ran: list[int] = []
    threads: set[str] = set()
    first_started, release = threading.Event(), threading.Event()

    def answer(reasoner: str, i: int) -> str:
        if i == 0:
            first_started.set()
            assert release.wait(10)
        ran.append(i)
        threads.add(threading.current_thread().name)
        return f"{reasoner} answered {i}"

    async def run() -> list[Any]:
        tasks = [asyncio.create_task(answer_in_order(slot, answer, i)) for i in range(30)]
        await asyncio.to_thread(first_started.wait, 10)  # every other read is queued behind it
        tasks[7].cancel()  # its client disconnected while it waited
        for _ in range(3):  # the loop passes the cancel on to the queued call (a callback)
            await asyncio.sleep(0)
        release.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = asyncio.run(run())
    assert ran == [i for i in range(30) if i != 7]
    assert isinstance(results[7], asyncio.CancelledError)
    assert results[29] == "the reasoner answered 29"
    assert len(threads) == 1 and threads.pop().startswith("needgraph-answer")


def test_without_a_model_the_read_fails_with_the_503_error(slot: Any) -> None:
    async def run() -> Any:
        return await answer_in_order(slot, lambda reasoner: reasoner)

    with pytest.raises(ModelNotLoadedError, match="no model loaded"):
        asyncio.run(run())


def _events_behind_a_held_read(
    slot: Any, monkeypatch: Any, applied: Callable[[str], object],
    recorded_in: list[str] | None = None,
) -> tuple[Callable[[str], None], threading.Event, threading.Event]:
    """Fake a loaded model and an event's application (``applied(body)`` records and answers).

    Returns a read that holds the answer thread until ``release`` is set, and the event its
    start sets. ``recorded_in`` gets the name of the thread each event is recorded in.
    """
    slot.serving = lambda: "the reasoner"

    def apply(reasoner: str, metrics: Any, body: str, clock: Any, *rest: Any) -> object:
        if recorded_in is not None:
            recorded_in.append(threading.current_thread().name)
        return applied(body)

    monkeypatch.setattr(realtime, "apply", apply)
    first_started, release = threading.Event(), threading.Event()

    def hold(reasoner: str) -> None:
        first_started.set()
        assert release.wait(10)

    return hold, first_started, release


def test_an_event_whose_client_left_is_still_answered(slot: Any, monkeypatch: Any) -> None:
    """Once posted, an event is recorded and applied to the worker's graph even if its client
    leaves while it waits for its turn: the worker never re-reads its own change-log entries, so
    a dropped answer would leave the customer's star stale in this worker."""
    applied: list[str] = []
    hold, first_started, release = _events_behind_a_held_read(
        slot, monkeypatch, lambda body: applied.append(f"recorded {body}"))

    async def run() -> None:
        holder = asyncio.create_task(answer_in_order(slot, hold))
        await asyncio.to_thread(first_started.wait, 10)
        event = asyncio.create_task(realtime.post_event(slot, ApiMetrics(), "e1", 3, "en"))
        for _ in range(100):  # until it is queued behind the held read
            if slot.answers.waiting()[0]:
                break
            await asyncio.sleep(0.01)
        event.cancel()  # its client disconnected
        release.set()
        await holder
        with pytest.raises(asyncio.CancelledError):
            await event
        await answer_in_order(slot, lambda reasoner: None)  # after everything queued before

    asyncio.run(run())
    assert applied == ["recorded e1"]


def test_an_event_is_answered_before_the_reads_queued_ahead_of_it(slot: Any,
                                                                   monkeypatch: Any) -> None:
    """And it is recorded there too: its text analysis gets the answer thread's core rather
    than a share of it against the reads."""
    order: list[str] = []
    recorded_in: list[str] = []
    hold, first_started, release = _events_behind_a_held_read(
        slot, monkeypatch, lambda body: order.append(body), recorded_in)

    def read(reasoner: str, i: int) -> None:
        order.append(f"read{i}")

    async def run() -> None:
        holder = asyncio.create_task(answer_in_order(slot, hold))
        await asyncio.to_thread(first_started.wait, 10)
        reads = [asyncio.create_task(answer_in_order(slot, read, i)) for i in range(5)]
        event = asyncio.create_task(realtime.post_event(slot, ApiMetrics(), "event", 3, "en"))
        for _ in range(100):  # until it is queued
            if slot.answers.waiting() == (1, 5):
                break
            await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(holder, event, *reads)

    asyncio.run(run())
    assert order == ["event", "read0", "read1", "read2", "read3", "read4"]
    assert len(recorded_in) == 1 and recorded_in[0].startswith("needgraph-answer")
