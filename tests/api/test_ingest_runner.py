"""The ingest worker without a server: shutdown at a batch boundary, recovery after a crash."""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from needgraph.api.metrics import ApiMetrics
from needgraph.api.services.ingest_jobs import IngestJobRunner, JobRecord
from needgraph.graph.base import GraphStore
from needgraph.ontology.files import read_ontology
from needgraph.ontology.loader import load_into_store
from tests.api.mini import FILES, MAPPING, customers_csv, write_tree


def _runner(store: GraphStore, tmp_path: Path, run: Any) -> IngestJobRunner:
    load_into_store(read_ontology(write_tree(tmp_path / "onto", FILES)), store, who="t", why="t")
    write_tree(tmp_path / "mappings", {"api_test.yaml": MAPPING})
    return IngestJobRunner(store, tmp_path / "data", tmp_path / "mappings", ApiMetrics(), run=run)


def _submit(runner: IngestJobRunner) -> JobRecord:
    request = httpx.Request(
        "POST", "http://x/", files={"file": ("c.csv", customers_csv(3))},
        data={"mapping": "api_test"},
    )
    job_id, folder = runner.new_folder()
    body = folder / "body.part"
    body.write_bytes(request.read())
    return runner.submit(job_id, folder, body, request.headers["content-type"],
                         lambda fields: {"mapping": fields.get("mapping")}, "tester")


def test_shutdown_interrupts_a_running_job_at_a_batch_boundary(
    store: GraphStore, tmp_path: Path
) -> None:
    started = threading.Event()

    def endless(*_args: Any, options: Any, **_kwargs: Any) -> list[Any]:
        started.set()
        for batch in range(10_000):
            time.sleep(0.01)
            options.on_batch(batch)
        return []

    runner = _runner(store, tmp_path, endless)
    runner.start()
    job = _submit(runner)
    assert started.wait(10)
    runner.shutdown(timeout=10)
    stopped = runner.get(job.id)
    assert stopped.status == "interrupted" and stopped.error is not None
    assert "resume=true" in stopped.error["hint"]
    assert not Path(stopped.data_path).exists()


def test_jobs_of_a_dead_process_are_marked_interrupted(store: GraphStore, tmp_path: Path) -> None:
    runner = _runner(store, tmp_path, lambda *a, **k: [])
    job = _submit(runner)  # queued, never run: the worker was not started
    dead = JobRecord(**{**vars(runner.get(job.id)), "owner": "ghost-host:1"})
    runner._save(dead)  # a job of another host is left alone
    fresh = IngestJobRunner(store, tmp_path / "data", tmp_path / "mappings", ApiMetrics())
    assert fresh.get(job.id).status == "queued"
    finished = subprocess.Popen(["true"])
    finished.wait()
    crashed = JobRecord(**{**vars(dead), "owner": f"{socket.gethostname()}:{finished.pid}"})
    runner._save(crashed)  # a job of a process of this host that no longer runs
    after = IngestJobRunner(store, tmp_path / "data", tmp_path / "mappings", ApiMetrics())
    assert after.get(job.id).status == "interrupted"
