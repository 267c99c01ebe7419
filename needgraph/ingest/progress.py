"""Progress of a job: a tqdm bar on a terminal, periodic log lines otherwise, or nothing.

``NEEDGRAPH_PROGRESS=0`` (or ``--no-progress``) switches both off.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any, Protocol

log = logging.getLogger("needgraph.ingest")


class Progress(Protocol):
    """Receives the job's progress after each batch."""

    def advance(self, rows: int, position: int) -> None:
        """``rows`` more rows are done; ``position`` is the source's progress measure."""

    def close(self) -> None:
        """The job ended."""


class NullProgress:
    """Shows nothing."""

    def advance(self, rows: int, position: int) -> None:
        """Ignore progress."""

    def close(self) -> None:
        """Nothing to close."""


class BarProgress:
    """A tqdm bar over the source's measure (bytes or rows), with rows in the postfix."""

    def __init__(self, desc: str, total: int | None, unit: str) -> None:
        from tqdm import tqdm

        self._bar: Any = tqdm(total=total, desc=desc, unit=unit, unit_scale=True,
                              dynamic_ncols=True, leave=True, file=sys.stderr)
        self._rows = 0
        self._last = 0

    def advance(self, rows: int, position: int) -> None:
        """Move the bar to ``position``."""
        self._rows += rows
        self._bar.update(max(0, position - self._last))
        self._last = max(self._last, position)
        self._bar.set_postfix(rows=f"{self._rows:,}", refresh=False)

    def close(self) -> None:
        """Finish the bar."""
        self._bar.close()


class LogProgress:
    """An INFO log line at most every ``every_s`` seconds (for logs, CI, pipes)."""

    def __init__(self, desc: str, total: int | None, unit: str, every_s: float = 10.0) -> None:
        self._desc, self._total, self._unit, self._every = desc, total, unit, every_s
        self._start = self._last = time.monotonic()
        self._rows = 0

    def advance(self, rows: int, position: int) -> None:
        """Log when the interval has passed."""
        self._rows += rows
        now = time.monotonic()
        if now - self._last < self._every:
            return
        self._last = now
        share = f" ({100 * position / self._total:.0f}%)" if self._total else ""
        rate = self._rows / max(now - self._start, 1e-9)
        log.info("ingest %s: %s rows%s, %s rows/s", self._desc, f"{self._rows:,}", share,
                 f"{rate:,.0f}")

    def close(self) -> None:
        """Nothing to close."""


def make_progress(desc: str, total: int | None, unit: str, enabled: bool | None = None
                  ) -> Progress:
    """Return the progress display for this environment.

    Args:
        desc: What is being ingested (the file name).
        total: Total of the measure (bytes or rows), when known.
        unit: ``B`` for bytes, ``rows`` for rows.
        enabled: Force on/off; ``None`` follows ``NEEDGRAPH_PROGRESS``.
    """
    if enabled is None:
        from needgraph.config import get_settings

        enabled = get_settings().progress
    if not enabled:
        return NullProgress()
    if sys.stderr.isatty():
        return BarProgress(desc, total, unit)
    return LogProgress(desc, total, unit)
