"""The job report: what one ingest job read, wrote and quarantined, printed and saved as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from needgraph.ingest.mapping import KINDS


def empty_counts() -> dict[str, dict[str, int]]:
    """Per-kind counters, all zero."""
    return {
        "customers": {"written": 0},
        "tags": {"observations": 0, "superseded_in_batch": 0},
        "text": {"utterances": 0, "mentions": 0, "failed": 0},
        "strategies": {"offers": 0},
        "labels": {"ratings": 0},
    }


@dataclass
class JobReport:
    """What an ingest job did. Counts are cumulative over a resumed job's runs.

    Attributes:
        job_id: Hash of the file content, the file's mapping and the kinds.
        dataset: Dataset name from the mapping.
        file: The input file.
        kinds: Record kinds ingested.
        status: ``done``, ``failed`` or ``already-done`` (a ``--resume`` of a finished job).
        format: ``csv``, ``parquet`` or ``jsonl``.
        encoding: Encoding used (detected or given).
        delimiter: CSV delimiter used.
        rows_read: Data rows read (bad rows included).
        rows_written: Rows written to the store.
        rows_quarantined: Rows not written (every problem is in the quarantine file).
        problems: Quarantine entries (a row can have several).
        counts: Per-kind counts (see :func:`empty_counts`).
        batches: Batches committed.
        resumed_from_row: Last committed row of the previous run when resumed, else ``None``.
        started_at: UTC start time of this run.
        duration_s: Wall time of this run.
        rows_per_s: Rows this run processed per second.
        labels_withheld: Whether labels were withheld.
        unmapped_columns: Columns the mapping neither maps nor ignores.
        store: Where the data went (no secrets).
        report_path: This report's JSON file.
        quarantine_path: The quarantine file.
        error: Why the job failed, when it did.
    """

    job_id: str
    dataset: str
    file: str
    kinds: list[str]
    status: str = "running"
    format: str = ""
    encoding: str | None = None
    delimiter: str | None = None
    rows_read: int = 0
    rows_written: int = 0
    rows_quarantined: int = 0
    problems: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=empty_counts)
    batches: int = 0
    resumed_from_row: int | None = None
    started_at: str = ""
    duration_s: float = 0.0
    rows_per_s: float = 0.0
    labels_withheld: bool = False
    unmapped_columns: list[str] = field(default_factory=list)
    store: str = ""
    report_path: str = ""
    quarantine_path: str = ""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the report as plain data."""
        return asdict(self)

    def save(self) -> None:
        """Write the report as JSON to :attr:`report_path`."""
        path = Path(self.report_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2, sort_keys=True),
                       encoding="utf-8")
        tmp.replace(path)

    def summary(self) -> str:
        """Return a human-readable multi-line summary."""
        kinds = ", ".join(k for k in KINDS if k in self.kinds)
        lines = [
            f"job {self.job_id[:12]}  {self.file}  [{kinds}]  {self.status}",
            f"  rows read {self.rows_read:,}  written {self.rows_written:,}  "
            f"quarantined {self.rows_quarantined:,} ({self.problems:,} problems)",
            f"  {self.duration_s:.1f} s, {self.rows_per_s:,.0f} rows/s, {self.batches} batches"
            + (f", resumed after row {self.resumed_from_row}" if self.resumed_from_row else ""),
        ]
        c = self.counts
        lines.append(
            f"  customers {c['customers']['written']:,}  tags {c['tags']['observations']:,}  "
            f"texts {c['text']['utterances']:,} (mentions {c['text']['mentions']:,})  "
            f"offers {c['strategies']['offers']:,}  ratings {c['labels']['ratings']:,}"
            + ("  [labels withheld]" if self.labels_withheld else "")
        )
        if self.unmapped_columns:
            lines.append(f"  unmapped columns (not read): {', '.join(self.unmapped_columns)}")
        if self.problems:
            lines.append(f"  quarantine: {self.quarantine_path}")
        if self.error:
            lines.append(f"  error: {self.error}")
        lines.append(f"  report: {self.report_path}")
        return "\n".join(lines)
