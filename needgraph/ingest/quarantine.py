"""The quarantine file: one JSON line per problem (file, row, field, masked value, reason, hint).

Entries of a batch are written and flushed before the batch commits; a resumed job first drops
the entries of rows after its last committed row, so a killed-and-resumed job ends with exactly
the entries of an uninterrupted run. Every value is masked again on the way out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from needgraph.ingest.privacy import mask_value
from needgraph.ingest.records import Problem


class QuarantineWriter:
    """Append-only JSONL writer of :class:`Problem` entries.

    Args:
        path: The quarantine file.
        file_name: Input file the entries are about.
        keep_through_row: On resume, the last committed row: entries of later rows are dropped
            first. ``None`` starts a fresh file.
    """

    def __init__(self, path: Path, file_name: str, keep_through_row: int | None = None) -> None:
        self.path = path
        self.file_name = file_name
        path.parent.mkdir(parents=True, exist_ok=True)
        kept: list[str] = []
        if keep_through_row is not None and path.exists():
            with path.open(encoding="utf-8") as old:
                for line in old:
                    try:
                        entry = json.loads(line)
                    except json.JSONDecodeError:
                        continue  # a line torn by the crash
                    if isinstance(entry, dict) and int(entry.get("row", 0)) <= keep_through_row:
                        kept.append(line if line.endswith("\n") else line + "\n")
        self.count = len(kept)
        self._out: IO[str] = path.open("w", encoding="utf-8")
        self._out.writelines(kept)
        self._out.flush()

    def write(self, problems: Iterable[Problem]) -> int:
        """Append entries and flush; return how many were written."""
        written = 0
        for problem in problems:
            entry: dict[str, Any] = {
                "file": self.file_name,
                "row": problem.row,
                "field": problem.field,
                "value": mask_value(problem.value),
                "reason": problem.reason,
                "hint": problem.hint,
            }
            if problem.kind:
                entry["kind"] = problem.kind
            self._out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            written += 1
        self._out.flush()
        self.count += written
        return written

    def close(self) -> None:
        """Close the file."""
        self._out.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def read_quarantine(path: Path) -> list[dict[str, Any]]:
    """Return the entries of a quarantine file."""
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
