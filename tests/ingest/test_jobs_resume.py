"""Killed and resumed jobs end with exactly the counts of an uninterrupted run, on both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from needgraph.graph.base import GraphStore
from needgraph.graph.sqlite import SqliteStore
from needgraph.ingest.quarantine import read_quarantine
from tests.ingest.conftest import (
    all_counts,
    edges,
    ingest,
    load_ontology,
    tiny_ontology,
    write_csv,
    write_yaml,
)

REPO = Path(__file__).resolve().parents[2]
MAPPING = """
dataset: resume-test
files:
  - path: series.csv
    tags:
      long: {tag: tag, value: value, time: time}
"""
BATCH = 10


def _series(tmp_path: Path) -> Path:
    """120 rows: 40 customers x 3 months of tenure, out of time order, plus bad rows."""
    rows = []
    for i in range(120):
        customer = f"K{i % 40:03d}"
        month = (7, 9, 8)[i // 40]
        value = str((i % 40) + month) if i % 17 else "not-a-number"
        rows.append([customer, "tag.tenure_months", value, f"2026-{month:02d}-28"])
    rows[55][0] = ""  # no customer id
    return write_csv(tmp_path / "series.csv", ["customer_id", "tag", "value", "time"], rows)


def _reference(store: GraphStore, tmp_path: Path) -> tuple[object, list[dict[str, object]],
                                                           list[tuple[str, str, str]]]:
    data, mapping = _series(tmp_path), write_yaml(tmp_path / "m.yaml", MAPPING)
    [report] = ingest(store, data, tmp_path / "ref", mapping=mapping, batch_size=BATCH)
    return (all_counts(store), read_quarantine(Path(report.quarantine_path)),
            edges(store, "HAS_TAG"))


def _reset(store: GraphStore) -> None:
    store.clear()
    store.setup_schema()
    load_ontology(store, tiny_ontology())


def test_wide_rows_close_batches_early(onto_store: GraphStore, tmp_path: Path) -> None:
    """A batch closes at max_batch_observations, before batch_size rows; nothing is lost."""
    counts, _, bins = _reference(onto_store, tmp_path)
    _reset(onto_store)
    data, mapping = tmp_path / "series.csv", tmp_path / "m.yaml"
    [report] = ingest(onto_store, data, tmp_path / "small", mapping=mapping, batch_size=1_000,
                      max_batch_observations=10)
    assert report.rows_read == 120 and report.batches >= 11  # one batch of 1,000 rows otherwise
    assert all_counts(onto_store) == counts
    assert edges(onto_store, "HAS_TAG") == bins


def test_injected_failure_then_resume(onto_store: GraphStore, tmp_path: Path) -> None:
    counts, quarantine, bins = _reference(onto_store, tmp_path)
    _reset(onto_store)
    data, mapping = tmp_path / "series.csv", tmp_path / "m.yaml"

    def boom(batches: int) -> None:
        if batches == 4:
            raise RuntimeError("injected failure after 4 batches")

    with pytest.raises(RuntimeError, match="injected"):
        ingest(onto_store, data, tmp_path, mapping=mapping, batch_size=BATCH, on_batch=boom)
    partial = all_counts(onto_store)
    assert partial[0]["Customer"] < counts[0]["Customer"]  # type: ignore[index]
    [report] = ingest(onto_store, data, tmp_path, mapping=mapping, batch_size=BATCH, resume=True)
    assert report.resumed_from_row == 4 * BATCH + 1
    assert report.rows_read == 120 and report.batches == 12
    assert all_counts(onto_store) == counts
    assert read_quarantine(Path(report.quarantine_path)) == quarantine
    assert edges(onto_store, "HAS_TAG") == bins
    [again] = ingest(onto_store, data, tmp_path, mapping=mapping, batch_size=BATCH, resume=True)
    assert again.status == "already-done" and all_counts(onto_store) == counts


_CHILD = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    sys.path.insert(0, {repo!r})
    from needgraph.ontology.graph_schema import GRAPH_SCHEMA
    from needgraph.ingest.jobs import JobOptions, run_ingest
    if {backend!r} == "sqlite":
        from needgraph.graph.sqlite import SqliteStore
        store = SqliteStore({db!r}, schema=GRAPH_SCHEMA)
    else:
        from needgraph.graph.neo4j import Neo4jStore
        store = Neo4jStore(os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"),
                           username=os.environ.get("NEO4J_USERNAME", "neo4j"),
                           password=os.environ.get("NEO4J_PASSWORD", ""), schema=GRAPH_SCHEMA)

    def kill(batches):
        if batches == {kill_after}:
            os.kill(os.getpid(), signal.SIGKILL)

    run_ingest(store, Path({data!r}), mapping=Path({mapping!r}),
               options=JobOptions(batch_size={batch}, report_dir=Path({reports!r}),
                                  progress=False, on_batch=kill))
""")


def test_sigkilled_job_resumes_exactly(onto_store: GraphStore, tmp_path: Path) -> None:
    counts, quarantine, bins = _reference(onto_store, tmp_path)
    _reset(onto_store)
    data, mapping = tmp_path / "series.csv", tmp_path / "m.yaml"
    backend = onto_store.backend
    db = str(onto_store.path) if isinstance(onto_store, SqliteStore) else ""
    code = _CHILD.format(repo=str(REPO), backend=backend, db=db, kill_after=7, data=str(data),
                         mapping=str(mapping), batch=BATCH, reports=str(tmp_path / "reports"))
    child = subprocess.run([sys.executable, "-c", code], env=dict(os.environ), timeout=120,
                           capture_output=True, text=True, check=False)
    assert child.returncode == -9, child.stderr[-2000:]
    saved = _checkpoint(onto_store, data, mapping)
    assert (saved["last_row"], saved["status"], saved["batches"]) == (7 * BATCH + 1, "running", 7)
    [report] = ingest(onto_store, data, tmp_path, mapping=mapping, batch_size=BATCH, resume=True)
    assert report.status == "done" and report.resumed_from_row == 7 * BATCH + 1
    assert all_counts(onto_store) == counts
    assert read_quarantine(Path(report.quarantine_path)) == quarantine
    assert edges(onto_store, "HAS_TAG") == bins


def _checkpoint(store: GraphStore, data: Path, mapping: Path) -> dict[str, object]:
    """The stored checkpoint of the job that ingests ``data``."""
    from needgraph.ingest.discovery import plan_ingest
    from needgraph.ingest.jobs import CHECKPOINT_PREFIX, job_id, require_ontology

    [plan] = plan_ingest(data, require_ontology(store), mapping=mapping)
    raw = store.get_meta(CHECKPOINT_PREFIX + job_id(plan, False))
    assert raw is not None
    loaded: dict[str, object] = json.loads(raw)
    return loaded
