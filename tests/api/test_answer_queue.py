"""The answer thread's queue: events before waiting reads, without starving the reads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from needgraph.api.services.answer_queue import AnswerQueue


@pytest.fixture
def queue() -> Iterator[AnswerQueue]:
    q = AnswerQueue("test-answer", max_urgent_in_row=2)
    yield q
    q.shutdown(wait=True, cancel_futures=True)


def _blocker(queue: AnswerQueue) -> threading.Event:
    """Occupy the answer thread until the returned event is set."""
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        started.set()
        release.wait(5)

    queue.submit(hold)
    assert started.wait(5)
    return release


def _recorder(order: list[str]) -> Callable[[str], str]:
    def note(name: str) -> str:
        order.append(name)
        return name

    return note


def test_an_urgent_call_goes_before_the_reads_waiting(queue: AnswerQueue) -> None:
    order: list[str] = []
    note = _recorder(order)
    release = _blocker(queue)
    reads = [queue.submit(note, f"read{i}") for i in range(3)]
    event = queue.submit_urgent(note, "event")
    assert queue.waiting() == (1, 3)
    release.set()
    assert event.result(5) == "event"
    assert [f.result(5) for f in reads] == ["read0", "read1", "read2"]
    assert order == ["event", "read0", "read1", "read2"]


def test_a_stream_of_urgent_calls_lets_a_waiting_read_through(queue: AnswerQueue) -> None:
    order: list[str] = []
    note = _recorder(order)
    release = _blocker(queue)
    futures = [queue.submit(note, "read0"), queue.submit(note, "read1")]
    futures += [queue.submit_urgent(note, f"event{i}") for i in range(5)]
    release.set()
    for future in futures:
        future.result(5)
    assert order == ["event0", "event1", "read0", "event2", "event3", "read1", "event4"]


def test_a_call_cancelled_before_its_turn_never_runs(queue: AnswerQueue) -> None:
    order: list[str] = []
    note = _recorder(order)
    release = _blocker(queue)
    left = queue.submit(note, "left")
    stays = queue.submit(note, "stays")
    assert left.cancel()
    release.set()
    assert stays.result(5) == "stays"
    assert order == ["stays"]


def test_an_error_reaches_the_caller_and_the_thread_goes_on(queue: AnswerQueue) -> None:
    def fail() -> None:
        raise KeyError("customer_x")

    with pytest.raises(KeyError, match="customer_x"):
        queue.submit_urgent(fail).result(5)
    assert queue.submit(str.upper, "ok").result(5) == "OK"


def test_shutdown_answers_what_is_queued_then_refuses_more() -> None:
    queue = AnswerQueue("test-answer")
    release = _blocker(queue)
    queued = queue.submit(str.upper, "queued")
    release.set()
    queue.shutdown(wait=True)
    assert queued.result(0) == "QUEUED"
    with pytest.raises(RuntimeError, match="after shutdown"):
        queue.submit(str.upper, "late")


def test_refuses_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="got 0"):
        AnswerQueue("test-answer", max_urgent_in_row=0)
