"""Workers above their share of kept-alive connections ask clients to reconnect, until even."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import pytest

from needgraph.api import balance
from needgraph.api.balance import _SLOT, WorkerTable, create_table

OPEN, WRITES = 1, 2  # a slot's cells after the process id


def _other_worker(path: Path, connections: int) -> memoryview:
    """Slot 1 of the table, held by a running process (this test's parent) with ``connections``."""
    with path.open("r+b") as handle:
        cells = memoryview(mmap.mmap(handle.fileno(), 0)).cast("q")
    cells[_SLOT], cells[_SLOT + OPEN] = os.getppid(), connections
    return cells


def test_a_worker_above_its_share_closes_connections_until_even(tmp_path: Path) -> None:
    path = create_table(2, tmp_path)
    table = WorkerTable(path)
    assert table.index == 0
    other = _other_worker(path, 6)
    for _ in range(10):
        table.opened()
    assert table.counts() == [10, 6]
    # 16 connections, a share of 8: two of this worker's ten must go, no more
    assert [table.should_close() for _ in range(4)] == [True, True, False, False]
    table.closed()
    table.closed()  # both clients reconnect: one lands here again, one on the other worker
    table.opened()
    other[_SLOT + OPEN] = 7
    assert [table.should_close() for _ in range(3)] == [True, False, False]
    table.closed()
    other[_SLOT + OPEN] = 8
    assert table.counts() == [8, 8]
    assert not table.should_close()


def test_a_close_told_to_a_client_that_had_left_is_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = create_table(2, tmp_path)
    table = WorkerTable(path)
    _other_worker(path, 0)
    for _ in range(3):
        table.opened()
    now = [1000.0]
    monkeypatch.setattr(balance.time, "monotonic", lambda: now[0])
    assert table.should_close() and not table.should_close()  # 3 of 3, share 2
    now[0] += balance.CLOSE_WAIT_S + 0.1  # that connection never closed: its client was gone
    assert table.should_close()


def test_a_slot_left_by_a_dead_worker_is_taken_over(tmp_path: Path) -> None:
    path = create_table(1, tmp_path)
    with path.open("r+b") as handle:
        cells = memoryview(mmap.mmap(handle.fileno(), 0)).cast("q")
    cells[0], cells[OPEN], cells[WRITES] = 2**22 + 12345, 5, 7  # a process id no process has
    table = WorkerTable(path)
    assert table.index == 0 and table.counts() == [0]
    table.wrote()
    assert cells[WRITES] == 8  # counts on: a sum over the slots never goes back
    table.release()
    assert cells[0] == 0 and cells[WRITES] == 8


def test_a_worker_sees_its_siblings_logged_writes_not_its_own(tmp_path: Path) -> None:
    path = create_table(3, tmp_path)
    table = WorkerTable(path)
    other = _other_worker(path, 0)
    assert table.sibling_writes() == 0
    table.wrote()
    table.wrote()
    assert table.sibling_writes() == 0
    other[_SLOT + WRITES] += 1
    assert table.sibling_writes() == 1
    other[2 * _SLOT + WRITES] = 4  # a slot no worker holds now still counts what it wrote
    assert table.sibling_writes() == 5


def test_a_table_needs_a_worker() -> None:
    with pytest.raises(ValueError, match="at least 1, got 0"):
        create_table(0)
