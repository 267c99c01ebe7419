"""The model's one answer thread: events before reads, each in arrival order.

A worker answers everything that uses the loaded model in one thread
(:func:`needgraph.api.deps.answer_in_order`). Under read load, up to ``clients / workers`` reads
wait in that thread's queue; an event that joined the end waited for all of them before its
customer's star was refreshed (``bench/RESULTS.md``, "Events first in the answer queue").
:class:`AnswerQueue` keeps two queues: urgent calls (events) are taken before reads, but never
more than ``max_urgent_in_row`` in a row while a read waits, so a stream of events cannot starve
the readers.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any, TypeVar

T = TypeVar("T")

DEFAULT_MAX_URGENT_IN_ROW = 4
"""Urgent calls answered in a row before a waiting read gets its turn."""


class _Call:
    """One queued call and the future its caller waits on."""

    __slots__ = ("args", "fn", "future", "kwargs")

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.future: Future[Any] = Future()

    def run(self) -> None:
        if not self.future.set_running_or_notify_cancel():
            return  # the caller left before its turn: dropped unanswered
        try:
            result = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # handed to the caller, like ThreadPoolExecutor
            self.future.set_exception(exc)
        else:
            self.future.set_result(result)


class AnswerQueue(Executor):
    """A one-thread executor with an urgent lane.

    ``submit`` queues a read; ``submit_urgent`` queues an urgent call, answered before the
    waiting reads. Each lane is first come, first served. A call whose future was cancelled
    before its turn (the client left) is skipped.

    Args:
        name: The thread's name (shown in profiles and log records).
        max_urgent_in_row: Urgent calls answered in a row while a read waits (at least 1).

    Raises:
        ValueError: ``max_urgent_in_row`` is below 1.
    """

    def __init__(self, name: str = "needgraph-answer",
                 max_urgent_in_row: int = DEFAULT_MAX_URGENT_IN_ROW) -> None:
        if max_urgent_in_row < 1:
            raise ValueError(f"max_urgent_in_row must be at least 1, got {max_urgent_in_row!r}")
        self.max_urgent_in_row = max_urgent_in_row
        self._reads: deque[_Call] = deque()
        self._urgent: deque[_Call] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Queue a read: answered after the urgent calls waiting, in arrival order."""
        return self._queue(self._reads, fn, args, kwargs)

    def submit_urgent(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """Queue an urgent call: answered before the waiting reads, in arrival order."""
        return self._queue(self._urgent, fn, args, kwargs)

    def waiting(self) -> tuple[int, int]:
        """How many urgent calls and reads wait (not counting the one being answered)."""
        with self._ready:
            return len(self._urgent), len(self._reads)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Answer what is queued (or cancel it), then stop the thread.

        Args:
            wait: Return only after the thread stopped.
            cancel_futures: Cancel the calls not started instead of answering them.
        """
        with self._ready:
            self._closed = True
            if cancel_futures:
                for lane in (self._urgent, self._reads):
                    while lane:
                        lane.popleft().future.cancel()
            self._ready.notify()
        if wait and threading.current_thread() is not self._thread:
            self._thread.join()

    def _queue(self, lane: deque[_Call], fn: Callable[..., T], args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Future[T]:
        call = _Call(fn, args, kwargs)
        with self._ready:
            if self._closed:
                raise RuntimeError("cannot queue an answer after shutdown")
            lane.append(call)
            self._ready.notify()
        return call.future

    def _work(self) -> None:
        in_row = 0
        while True:
            with self._ready:
                while not self._urgent and not self._reads:
                    if self._closed:
                        return
                    self._ready.wait()
                if self._urgent and (not self._reads or in_row < self.max_urgent_in_row):
                    call = self._urgent.popleft()
                    in_row += 1
                else:
                    call = self._reads.popleft()
                    in_row = 0
            call.run()
