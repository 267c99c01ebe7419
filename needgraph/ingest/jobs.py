"""Ingest jobs: stream a file in batches into the store, idempotent and resumable.

A job is one input file with its file spec and record kinds. Its id is a hash of the file's
content, the mapping that applies to it and the kinds, so the same input is the same job.
Rows are validated first (bad ones go to the quarantine file, never abort the job); each batch
is then written in one transaction together with the job's checkpoint
(``ingest.job.<id>`` in the store's metadata: rows done, counts). ``resume=True`` continues
after the last committed batch; re-running a finished job rewrites the same records (keys are
deterministic, writes are upserts), so counts do not change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from needgraph.graph.base import GraphStore
from needgraph.ingest.batch import BatchBuilder, BatchStats
from needgraph.ingest.discovery import JobPlan, plan_ingest
from needgraph.ingest.errors import OntologyNotLoadedError
from needgraph.ingest.mapping import Kind
from needgraph.ingest.mapping_check import check_mapping
from needgraph.ingest.progress import make_progress
from needgraph.ingest.quarantine import QuarantineWriter
from needgraph.ingest.readers import BadRow, Source, SourceRow, open_source
from needgraph.ingest.records import CustomerRecord, Problem, RowParser
from needgraph.ingest.report import JobReport
from needgraph.ingest.text_port import TextPipeline
from needgraph.ingest.writers import BatchWriter, GraphBatch, writer_for
from needgraph.ontology.core import Ontology

log = logging.getLogger("needgraph.ingest")
CHECKPOINT_PREFIX = "ingest.job."
DEFAULT_REPORT_DIR = Path("needgraph-data/ingest")


@dataclass
class JobOptions:
    """How to run jobs.

    Attributes:
        batch_size: Rows per committed batch.
        max_batch_observations: Close a batch early once its rows hold this many observations
            (tags, texts, offers, labels), so a batch of wide rows stays within a server's
            transaction memory (Neo4j refused 5,000 rows of ~170 tags each).
        resume: Continue each job after its last committed batch.
        withhold_labels: Ingest no labels (held-out customers).
        report_dir: Folder of the report and quarantine files.
        progress: Progress display on/off; ``None`` follows ``NEEDGRAPH_PROGRESS``.
        on_batch: Called with the number of committed batches after each commit (tests use it
            to kill a job mid-way).
    """

    batch_size: int = 5_000
    max_batch_observations: int = 200_000
    resume: bool = False
    withhold_labels: bool = False
    report_dir: Path = DEFAULT_REPORT_DIR
    progress: bool | None = None
    on_batch: Callable[[int], None] | None = None


def require_ontology(store: GraphStore) -> Ontology:
    """Return the ontology the store holds.

    Raises:
        OntologyNotLoadedError: The store has no ``ontology.version`` (nothing loaded).
    """
    from needgraph.ontology.versioning import VERSION_KEY, stored_ontology

    if not store.get_meta(VERSION_KEY):
        raise OntologyNotLoadedError(
            f"the store {store.describe()} holds no ontology (no {VERSION_KEY} metadata)",
            hint="run: needgraph ontology load",
        )
    ontology = stored_ontology(store)
    if ontology is None:
        raise OntologyNotLoadedError(
            f"the store {store.describe()} has an ontology version but not its content",
            hint="run: needgraph ontology load",
        )
    return ontology


def fingerprint(path: Path) -> str:
    """Return the BLAKE2b hash of a file's bytes (streamed)."""
    digest = hashlib.blake2b(digest_size=20)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def job_id(plan: JobPlan, withhold_labels: bool) -> str:
    """Return the id of the job: hash of file content, the mapping that applies, the kinds."""
    mapping = plan.doc.mapping
    kinds = [k for k in plan.kinds if not (withhold_labels and k == "labels")]
    identity = {
        "file": fingerprint(plan.path),
        "mapping": {
            "dataset": mapping.dataset,
            "timezone": mapping.timezone,
            "observed_at": mapping.observed_at,
            "never_inputs": sorted(mapping.never_inputs),
            "spec": plan.spec.model_dump(mode="json"),
        },
        "kinds": kinds,
    }
    text = json.dumps(identity, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


class IngestJob:
    """One file, read in batches and written to the store.

    Args:
        store: Where to write.
        plan: The file, its spec and kinds.
        ontology: The ontology the store holds (:func:`require_ontology`).
        options: Batch size, resume, labels, report folder, progress.
        text: Text analyser/embedder; required when the kinds include ``text``.
    """

    def __init__(self, store: GraphStore, plan: JobPlan, ontology: Ontology,
                 options: JobOptions, text: TextPipeline | None = None) -> None:
        self.store = store
        self.plan = plan
        self.ontology = ontology
        self.options = options
        withhold = options.withhold_labels or plan.doc.mapping.withhold_labels
        self.kinds: tuple[Kind, ...] = tuple(
            k for k in plan.kinds if not (withhold and k == "labels"))
        self.labels_withheld = withhold and "labels" in plan.kinds
        self.id = job_id(plan, withhold)
        self.meta_key = CHECKPOINT_PREFIX + self.id
        self.text = text
        self._committed: str | None = None
        stem = plan.path.name.removesuffix(".gz").rsplit(".", 1)[0]
        base = options.report_dir / f"{stem}.{self.id[:12]}"
        self.report = JobReport(
            job_id=self.id, dataset=plan.doc.mapping.dataset, file=str(plan.path),
            kinds=list(self.kinds), labels_withheld=self.labels_withheld,
            store=store.describe(), report_path=str(base) + ".report.json",
            quarantine_path=str(base) + ".quarantine.jsonl")

    # -- checkpoint --------------------------------------------------------------------------
    def checkpoint(self) -> dict[str, Any] | None:
        """Return the job's stored checkpoint, or ``None``."""
        raw = self.store.get_meta(self.meta_key)
        return json.loads(raw) if raw else None

    def _checkpoint_value(self, status: str, last_row: int) -> str:
        r = self.report
        return json.dumps({
            "job_id": self.id, "file": r.file, "kinds": r.kinds, "status": status,
            "last_row": last_row, "rows_read": r.rows_read, "rows_written": r.rows_written,
            "rows_quarantined": r.rows_quarantined, "problems": r.problems,
            "batches": r.batches, "counts": r.counts,
            "updated_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }, sort_keys=True)

    def _restore(self, saved: dict[str, Any]) -> int:
        r = self.report
        r.rows_read, r.rows_written = int(saved["rows_read"]), int(saved["rows_written"])
        r.rows_quarantined, r.problems = int(saved["rows_quarantined"]), int(saved["problems"])
        r.batches = int(saved["batches"])
        r.counts = {k: dict(v) for k, v in saved["counts"].items()}
        return int(saved["last_row"])

    # -- run ---------------------------------------------------------------------------------
    def run(self) -> JobReport:
        """Run (or resume) the job; return its report (also saved as JSON).

        Raises:
            NeedgraphError: The job cannot start (mapping, input, ontology) or the store
                failed; the report is saved with status ``failed`` first when it had started.
        """
        doc, spec = self.plan.doc, self.plan.spec
        check_mapping(doc, self.ontology, frozenset(self.kinds))
        if "text" in self.kinds and self.text is None and spec.text:
            from needgraph.ingest.text_port import default_text_pipeline

            self.text = default_text_pipeline(self.ontology)
        report = self.report
        report.started_at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        saved = self.checkpoint()
        after_row = 0
        if self.options.resume and saved is not None:
            after_row = self._restore(saved)
            if saved.get("status") == "done":
                report.status = "already-done"
                report.resumed_from_row = after_row
                report.save()
                return report
            report.resumed_from_row = after_row
        elif saved is not None and saved.get("status") != "done":
            log.info("job %s stopped after row %s last time; starting over "
                     "(--resume continues instead)", self.id[:12], saved.get("last_row"))
        self._committed = self._checkpoint_value("running", after_row)
        source = open_source(self.plan.path, spec.format, spec.encoding, spec.delimiter)
        report.format, report.encoding, report.delimiter = (
            source.format, source.encoding, source.delimiter)
        parser = RowParser(doc.mapping, spec, self.ontology, self.kinds, self.plan.index)
        if source.header is not None:
            try:
                report.unmapped_columns = parser.check_columns(source.header,
                                                               self.plan.path.name)
            except BaseException:
                source.close()
                raise
        resumed = after_row if report.resumed_from_row is not None else None
        quarantine = QuarantineWriter(Path(report.quarantine_path), self.plan.path.name,
                                      keep_through_row=resumed)
        started = time.monotonic()
        processed = 0
        try:
            processed = self._loop(source, parser, quarantine, after_row)
        except BaseException as exc:
            report.status = "failed"
            report.error = f"{type(exc).__name__}: {exc}"[:500]
            raise
        else:
            report.status = "done"
        finally:
            source.close()
            quarantine.close()
            report.duration_s = round(time.monotonic() - started, 3)
            report.rows_per_s = round(processed / max(report.duration_s, 1e-9), 1)
            report.save()
        return report

    def _loop(self, source: Source, parser: RowParser, quarantine: QuarantineWriter,
              after_row: int) -> int:
        """Read, validate and build batches; a writer thread commits batch N while N+1 builds.

        At most one batch is in flight; its error surfaces before the next one is handed over.
        """
        spec = self.plan.spec
        builder = BatchBuilder(self.plan.doc.mapping.dataset, self.ontology, self.store,
                               self.text, whole_rows=(spec.bad_values or "row") == "row")
        writer = writer_for(self.store)
        unit = "rows" if source.format == "parquet" else "B"
        total = source.total_rows if source.format == "parquet" else source.total_bytes
        progress = make_progress(self.plan.path.name, total, unit, self.options.progress)
        chunk = _Chunk()
        processed = 0
        last_row = after_row
        pending: Future[None] | None = None
        try:
            with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer") as pool:
                for item in source.rows(after_row=after_row):
                    last_row = item.number
                    chunk.add(item, parser)
                    if (chunk.rows >= self.options.batch_size
                            or chunk.observations >= self.options.max_batch_observations):
                        pending = self._hand_over(pool, pending, builder, writer, chunk,
                                                  last_row, quarantine)
                        processed += chunk.rows
                        progress.advance(chunk.rows, source.position())
                        chunk = _Chunk()
                if chunk.rows:
                    pending = self._hand_over(pool, pending, builder, writer, chunk, last_row,
                                              quarantine)
                    processed += chunk.rows
                    progress.advance(chunk.rows, source.position())
                if pending is not None:
                    pending.result()
        except BaseException:
            if self._committed is not None:
                self._restore(json.loads(self._committed))
            raise
        finally:
            progress.close()
        self.store.set_meta(self.meta_key, self._checkpoint_value("done", last_row))
        return processed

    def _hand_over(self, pool: ThreadPoolExecutor, pending: Future[None] | None,
                   builder: BatchBuilder, writer: BatchWriter, chunk: _Chunk, last_row: int,
                   quarantine: QuarantineWriter) -> Future[None]:
        """Build the chunk's batch, record its problems, then queue it behind ``pending``."""
        batch, stats, more = builder.build(chunk.records)
        problems = chunk.problems + more
        bad_rows = chunk.bad_rows | stats.dropped_rows
        report = self.report
        report.rows_read += chunk.rows
        report.rows_quarantined += len(bad_rows)
        report.rows_written += chunk.rows - len(bad_rows)
        report.problems += len(problems)
        report.batches += 1
        _add_stats(report.counts, stats)
        batch.checkpoint = (self.meta_key, self._checkpoint_value("running", last_row))
        quarantine.write(sorted(problems, key=lambda p: p.row))  # before the batch commits
        if pending is not None:
            pending.result()  # the previous batch is committed (or its error raised here)
        return pool.submit(self._write_batch, writer, batch, report.batches)

    def _write_batch(self, writer: BatchWriter, batch: GraphBatch, number: int) -> None:
        writer.write(batch)
        self._committed = batch.checkpoint[1] if batch.checkpoint else None
        if self.options.on_batch is not None:
            self.options.on_batch(number)


class _Chunk:
    """Rows read since the last batch: valid records, problems, quarantined row numbers."""

    def __init__(self) -> None:
        self.rows = 0
        self.observations = 0
        self.records: list[CustomerRecord] = []
        self.problems: list[Problem] = []
        self.bad_rows: set[int] = set()

    def add(self, item: SourceRow | BadRow, parser: RowParser) -> None:
        """Validate one row into the chunk."""
        self.rows += 1
        if isinstance(item, BadRow):
            self.problems.append(Problem(item.number, "", item.value, item.reason, item.hint))
            self.bad_rows.add(item.number)
            return
        record, found = parser.parse(item)
        self.problems.extend(found)
        if record is None:
            self.bad_rows.add(item.number)
        else:
            self.records.append(record)
            self.observations += (len(record.tags) + len(record.texts) + len(record.offers)
                                  + len(record.labels))


def _add_stats(counts: dict[str, dict[str, int]], stats: BatchStats) -> None:
    adds = {
        ("customers", "written"): stats.customers,
        ("tags", "observations"): stats.tags,
        ("tags", "superseded_in_batch"): stats.tags_superseded,
        ("text", "utterances"): stats.utterances,
        ("text", "mentions"): stats.mentions,
        ("text", "failed"): stats.texts_failed,
        ("strategies", "offers"): stats.offers,
        ("labels", "ratings"): stats.ratings,
    }
    for (kind, name), value in adds.items():
        counts.setdefault(kind, {})[name] = counts.get(kind, {}).get(name, 0) + value


def run_ingest(
    store: GraphStore,
    path: Path,
    *,
    mapping: Path | None = None,
    kind: Kind | None = None,
    encoding: str | None = None,
    options: JobOptions | None = None,
    text: TextPipeline | None = None,
) -> list[JobReport]:
    """Ingest a file or a folder: plan the jobs, then run them one after the other.

    Args:
        store: Where to write (its ontology must be loaded).
        path: A file or a folder (see :func:`~needgraph.ingest.discovery.plan_ingest`).
        mapping: Mapping file (a folder's ``mapping.yaml`` by default).
        kind: Only this record kind.
        encoding: Encoding of every file (overrides detection and the mapping).
        options: Batch size, resume, labels, report folder, progress.
        text: Text analyser/embedder (the project's linker is built when needed and absent).

    Returns:
        One report per job.

    Raises:
        OntologyNotLoadedError: The store holds no ontology (run: needgraph ontology load).
    """
    options = options or JobOptions()
    ontology = require_ontology(store)
    plans = plan_ingest(path, ontology, mapping=mapping, kind=kind, encoding=encoding)
    reports = []
    for plan in plans:
        job = IngestJob(store, plan, ontology, options, text)
        if not job.kinds:
            log.info("%s: nothing left to ingest once labels are withheld", plan.path.name)
            continue
        reports.append(job.run())
        text = job.text or text
    return reports

