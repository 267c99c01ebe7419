"""Ingest jobs submitted over HTTP, run one at a time by a background worker thread.

A submission is checked before it is accepted (the store holds an ontology, the mapping exists
and parses, the ingest package can plan the file), so most mistakes are answered at once with
422/409. The job then runs :func:`needgraph.ingest.jobs.run_ingest` in the worker; its
:class:`~needgraph.ingest.report.JobReport` objects become the job's reports. The uploaded data
file is deleted when the job ends (it holds personal data); reports and the quarantine file stay
in the job's folder.

Job records are kept in the store's metadata (``api.ingest.jobs``, newest first, the last 500),
so they survive restarts and both stores work. A job that was queued or running in a process that
no longer runs is marked ``interrupted`` (submit it again with ``resume=true`` to continue after
its last committed batch). On shutdown the worker stops at the next batch boundary.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import shutil
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from needgraph.api.context import JOB_ID, REQUEST_ID
from needgraph.api.errors import IngestJobNotFoundError, InvalidInputError, ServiceShuttingDownError
from needgraph.api.metrics import ApiMetrics
from needgraph.api.services.multipart import boundary_of, parse_form
from needgraph.errors import NeedgraphError
from needgraph.graph.base import GraphStore
from needgraph.ingest.discovery import plan_ingest
from needgraph.ingest.jobs import JobOptions, require_ontology, run_ingest
from needgraph.ingest.mapping_io import load_mapping
from needgraph.ingest.report import JobReport
from needgraph.security.keys import utc_now

JOBS_META = "api.ingest.jobs"
MAX_KEPT = 500
FIELDS = ("mapping", "kind", "encoding", "withhold_labels", "resume")
log = logging.getLogger("needgraph.api.ingest")
RunIngest = Callable[..., list[JobReport]]
_OWNER = f"{socket.gethostname()}:{os.getpid()}"
_REPORT_MEMBERS = [
    "job_id",
    "dataset",
    "kinds",
    "status",
    "format",
    "encoding",
    "delimiter",
    "rows_read",
    "rows_written",
    "rows_quarantined",
    "problems",
    "counts",
    "batches",
    "resumed_from_row",
    "started_at",
    "duration_s",
    "rows_per_s",
    "labels_withheld",
    "unmapped_columns",
    "error",
]


class JobStoppedError(Exception):
    """Raised between batches to stop a job when the service shuts down."""


@dataclass
class JobRecord:
    """One job: what the API shows, plus where its files are (kept private)."""

    id: str
    status: str
    filename: str
    mapping: str | None
    kind: str | None
    submitted_by: str
    submitted_at: str
    bytes: int
    started_at: str | None = None
    finished_at: str | None = None
    reports: list[dict[str, Any]] = field(default_factory=list)
    error: dict[str, Any] | None = None
    owner: str = _OWNER
    folder: str = ""
    data_path: str = ""
    mapping_path: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    request_id: str | None = None

    def public(self) -> dict[str, Any]:
        """Return the members the API shows."""
        data = asdict(self)
        for private in ("owner", "folder", "data_path", "mapping_path", "options", "request_id"):
            data.pop(private)
        return data


def report_public(report: JobReport) -> dict[str, Any]:
    """Return a JobReport's members the API shows (no server paths, no store description)."""
    data = report.to_dict()
    shown = {name: data[name] for name in _REPORT_MEMBERS}
    shown["file"] = Path(report.file).name
    return shown


def _owner_gone(owner: str) -> bool:
    host, _, pid = owner.rpartition(":")
    if owner == _OWNER or host != socket.gethostname() or not pid.isdigit():
        return owner == _OWNER
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class IngestJobRunner:
    """Accepts uploads as jobs and runs them in one background thread.

    Args:
        store: The store jobs write to (its metadata keeps the job records).
        data_dir: Folder of the jobs' files (``<data_dir>/ingest/<job id>/``).
        mappings_path: Folder of named mappings (``<name>.yaml``).
        metrics: Where job counters go.
        run: The ingest entry point (tests may replace it).
    """

    def __init__(
        self,
        store: GraphStore,
        data_dir: Path,
        mappings_path: Path,
        metrics: ApiMetrics,
        run: RunIngest = run_ingest,
    ) -> None:
        self.store = store
        self.root = data_dir / "ingest"
        self.mappings_path = mappings_path
        self.metrics = metrics
        self._run_ingest = run
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._recovered = False
        self._mine: set[str] = set()
        self._thread = threading.Thread(target=self._work, name="needgraph-ingest", daemon=True)

    # -- lifecycle -------------------------------------------------------------------------
    def start(self) -> None:
        """Start the worker thread."""
        self._thread.start()

    def shutdown(self, timeout: float) -> None:
        """Stop taking jobs; let the running one reach a batch boundary (up to ``timeout`` s)."""
        self._stopping.set()
        self._queue.put(None)
        if self._thread.is_alive():
            self._thread.join(timeout)
        if self._thread.is_alive():
            log.warning("ingest worker still busy at shutdown; its job will be interrupted")

    # -- records ---------------------------------------------------------------------------
    def _read(self) -> list[JobRecord]:
        raw = self.store.get_meta(JOBS_META)
        return [JobRecord(**item) for item in json.loads(raw)] if raw else []

    def _write(self, records: list[JobRecord]) -> None:
        data = [asdict(r) for r in records[:MAX_KEPT]]
        self.store.set_meta(JOBS_META, json.dumps(data, ensure_ascii=False, sort_keys=True))

    def _save(self, record: JobRecord) -> None:
        with self._lock:
            records = [r for r in self._read() if r.id != record.id]
            position = next(
                (i for i, r in enumerate(records) if r.submitted_at <= record.submitted_at),
                len(records),
            )
            records.insert(position, record)
            self._write(records)

    def _recover(self) -> None:
        if self._recovered:
            return
        with self._lock:
            records = self._read()
            changed = False
            for record in records:
                unfinished = record.status in ("queued", "running")
                if unfinished and record.id not in self._mine and _owner_gone(record.owner):
                    record.status = "interrupted"
                    record.finished_at = record.finished_at or utc_now()
                    record.error = _interrupted_problem()
                    changed = True
            if changed:
                self._write(records)
            self._recovered = True

    def get(self, job_id: str) -> JobRecord:
        """Return the job ``job_id``.

        Raises:
            IngestJobNotFoundError: No such job (or it is older than the 500 kept).
        """
        self._recover()
        for record in self._read():
            if record.id == job_id:
                return record
        raise IngestJobNotFoundError(f"no ingest job has id {job_id!r}", job_id=job_id)

    def list_jobs(self, status: str | None = None) -> list[JobRecord]:
        """Return the jobs (newest first), only those with ``status`` if given."""
        self._recover()
        return [r for r in self._read() if status is None or r.status == status]

    # -- submission ------------------------------------------------------------------------
    def new_folder(self) -> tuple[str, Path]:
        """Return a new job id and its (created) folder."""
        job_id = uuid.uuid4().hex
        folder = self.root / job_id
        folder.mkdir(parents=True, exist_ok=False)
        return job_id, folder

    def discard(self, folder: Path) -> None:
        """Remove a job folder whose submission was refused."""
        shutil.rmtree(folder, ignore_errors=True)

    def _mapping(self, name: str | None, uploaded: Path | None) -> tuple[str | None, Path | None]:
        if name and uploaded:
            raise InvalidInputError(
                "body.mapping_file", "give either `mapping` or `mapping_file`, not both"
            )
        if uploaded is not None:
            load_mapping(uploaded)
            return "upload", uploaded
        if not name:
            return None, None
        path = self.mappings_path / f"{name}.yaml"
        if not path.is_file():
            known = sorted(p.stem for p in self.mappings_path.glob("*.yaml"))
            raise InvalidInputError(
                "body.mapping",
                f"no mapping named {name!r} (available: {', '.join(known) or 'none'})",
            )
        load_mapping(path)
        return name, path

    def submit(
        self,
        job_id: str,
        folder: Path,
        body: Path,
        content_type: str | None,
        fields: Callable[[dict[str, str]], dict[str, Any]],
        who: str,
    ) -> JobRecord:
        """Check an upload spooled to ``body`` and queue it as job ``job_id``.

        Args:
            job_id: Id from :meth:`new_folder`.
            folder: The job's folder.
            body: The spooled ``multipart/form-data`` body (deleted here).
            content_type: The request's content type (for the boundary).
            fields: Validates the form's text fields; returns the options (``mapping``,
                ``kind``, ``encoding``, ``withhold_labels``, ``resume``).
            who: Name of the submitting key.

        Raises:
            InvalidInputError: Malformed form, no ``file`` part, unknown mapping (422).
            MappingError, InputFormatError: The mapping or the file cannot be used (422).
            OntologyNotLoadedError: The store holds no ontology (409).
            ServiceShuttingDownError: The service is stopping (503).
        """
        if self._stopping.is_set():
            raise ServiceShuttingDownError("the service is shutting down; no new ingest jobs")
        self._recover()
        try:
            form = parse_form(body, boundary_of(content_type), folder / "upload")
        finally:
            body.unlink(missing_ok=True)
        unknown = sorted(set(form.fields) - set(FIELDS)) + sorted(
            set(form.files) - {"file", "mapping_file"}
        )
        if unknown:
            raise InvalidInputError(f"body.{unknown[0]}", "unknown form field")
        upload = form.files.get("file")
        if upload is None:
            raise InvalidInputError("body.file", "the `file` part (the data to ingest) is missing")
        options = fields(form.fields)
        mapping_file = form.files.get("mapping_file")
        with _unreadable("body.mapping_file"):
            mapping_name, mapping_path = self._mapping(
                options.get("mapping"), mapping_file.path if mapping_file else None
            )
        ontology = require_ontology(self.store)
        with _unreadable("body.file"):
            plans = plan_ingest(
                upload.path,
                ontology,
                mapping=mapping_path,
                kind=options.get("kind"),
                encoding=options.get("encoding"),
            )
        if not plans:
            raise InvalidInputError(
                "body.kind", f"nothing of kind {options.get('kind')!r} to ingest in the file"
            )
        record = JobRecord(
            id=job_id,
            status="queued",
            filename=upload.filename,
            mapping=mapping_name,
            kind=options.get("kind"),
            submitted_by=who,
            submitted_at=utc_now(),
            bytes=upload.size,
            folder=str(folder),
            data_path=str(upload.path),
            mapping_path=str(mapping_path) if mapping_path else None,
            options={k: options.get(k) for k in ("kind", "encoding", "withhold_labels", "resume")},
            request_id=REQUEST_ID.get(),
        )
        with self._lock:
            self._mine.add(job_id)
            self._save(record)
        self.metrics.ingest_jobs.labels("submitted").inc()
        self.metrics.ingest_in_progress.inc()
        log.info("ingest job queued", extra={"job_id": job_id, "bytes": upload.size})
        self._queue.put(job_id)
        return record

    # -- the worker ------------------------------------------------------------------------
    def _check_stop(self, _batches: int) -> None:
        if self._stopping.is_set():
            raise JobStoppedError

    def _work(self) -> None:
        while True:
            job_id = self._queue.get()
            if job_id is None:
                return
            if self._stopping.is_set():
                self._finish_unstarted(job_id)
                continue
            self._run_job(job_id)

    def _finish_unstarted(self, job_id: str) -> None:
        try:
            record = self.get(job_id)
            record.status, record.finished_at = "interrupted", utc_now()
            record.error = _interrupted_problem()
            self._save(record)
        except NeedgraphError:
            log.warning("could not mark ingest job interrupted", extra={"job_id": job_id})
        self.metrics.ingest_jobs.labels("interrupted").inc()
        self.metrics.ingest_in_progress.dec()

    def _run_job(self, job_id: str) -> None:
        try:
            record = self.get(job_id)
        except NeedgraphError:
            log.error("ingest job vanished before it ran", extra={"job_id": job_id})
            self.metrics.ingest_in_progress.dec()
            return
        REQUEST_ID.set(record.request_id)
        JOB_ID.set(job_id)
        record.status, record.started_at = "running", utc_now()
        self._save_quietly(record)
        log.info("ingest job started")
        options = JobOptions(
            report_dir=Path(record.folder) / "reports",
            progress=False,
            withhold_labels=bool(record.options.get("withhold_labels")),
            resume=bool(record.options.get("resume")),
            on_batch=self._check_stop,
        )
        try:
            reports = self._run_ingest(
                self.store,
                Path(record.data_path),
                mapping=Path(record.mapping_path) if record.mapping_path else None,
                kind=record.options.get("kind"),
                encoding=record.options.get("encoding"),
                options=options,
            )
        except JobStoppedError:
            record.status, record.error = "interrupted", _interrupted_problem()
        except NeedgraphError as exc:
            record.status, record.error = "failed", exc.problem()
        except Exception as exc:  # never let the worker die; the type is logged, not the text
            log.error("ingest job crashed", extra={"error_type": type(exc).__name__})
            record.status = "failed"
            record.error = {
                "type": "https://needgraph.dev/problems/internal",
                "title": "Internal error",
                "status": 500,
                "detail": f"the job stopped on an unexpected {type(exc).__name__}; it is logged",
            }
        else:
            record.status = "done"
            record.reports = [report_public(r) for r in reports]
            for report in reports:
                self.metrics.ingest_rows.labels("read").inc(report.rows_read)
                self.metrics.ingest_rows.labels("written").inc(report.rows_written)
                self.metrics.ingest_rows.labels("quarantined").inc(report.rows_quarantined)
        finally:
            Path(record.data_path).unlink(missing_ok=True)
        record.finished_at = utc_now()
        self._save_quietly(record)
        self.metrics.ingest_jobs.labels(record.status).inc()
        self.metrics.ingest_in_progress.dec()
        log.info("ingest job finished", extra={"status": record.status})
        JOB_ID.set(None)
        REQUEST_ID.set(None)

    def _save_quietly(self, record: JobRecord) -> None:
        try:
            self._save(record)
        except NeedgraphError as exc:
            log.error("could not save ingest job record: %s", exc.detail)


@contextmanager
def _unreadable(field_name: str) -> Iterator[None]:
    """Turn an unexpected failure of the ingest package on uploaded bytes into a 422."""
    try:
        yield
    except NeedgraphError:
        raise
    except Exception as exc:  # uploaded bytes are untrusted: never a 500 for them
        log.info("upload refused", extra={"field": field_name, "error_type": type(exc).__name__})
        raise InvalidInputError(
            field_name,
            f"cannot be read ({type(exc).__name__})",
            hint="Send UTF-8 (or a detectable encoding) CSV, JSONL or Parquet, and a YAML mapping.",
        ) from None


def _interrupted_problem() -> dict[str, Any]:
    return {
        "type": "https://needgraph.dev/problems/ingest-interrupted",
        "title": "Ingest job interrupted",
        "status": 503,
        "detail": "the service stopped before the job finished",
        "hint": "Submit the same file again with resume=true to continue after the last "
        "committed batch.",
    }
