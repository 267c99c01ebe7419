"""Reads are answered first come, first served, and a read whose client left is never computed."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from needgraph.api.deps import answer_in_order
from needgraph.api.errors import ModelNotLoadedError
from needgraph.api.metrics import ApiMetrics
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
