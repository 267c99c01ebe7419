"""Prometheus metrics of one app instance (its own registry, so apps never share series).

* ``needgraph_http_requests_total{method,route,status}`` - requests answered;
* ``needgraph_http_request_duration_seconds{method,route,status}`` - latency histogram;
* ``needgraph_ingest_jobs_total{status}`` - ingest jobs submitted / done / failed / interrupted;
* ``needgraph_ingest_jobs_in_progress`` - jobs queued or running;
* ``needgraph_ingest_rows_total{outcome}`` - rows read / written / quarantined by API jobs;
* ``needgraph_inference_seconds{op}`` - model work per request (predict, explain, recommend, ...);
* ``needgraph_events_total{kind,result}`` - real-time events (``created`` / ``duplicate``);
* ``needgraph_outcomes_total{status,result}`` - action outcomes reported;
* ``needgraph_model_loaded`` - 1 while a model is loaded, else 0;
* ``needgraph_text_linker_loaded`` - 1 once the events' text linker and embedding model are
  loaded (with the model, ``NEEDGRAPH_API_PRELOAD_TEXT``), else 0;
* ``needgraph_live_synced_customers_total`` - customers refreshed because another process
  (another ``--workers`` worker, another host) recorded an event or outcome for them;
* ``needgraph_worker_info{writer}`` - 1, labelled with this process's change-log writer id (tells
  the workers of ``needgraph serve --workers N`` apart; see :mod:`needgraph.ingest.change_log`);
* the process collector's ``process_*`` series.

``route`` is the route template (``/v1/concepts/{concept_id}``), never the raw path, so ids and
customer keys neither reach the metrics nor blow up their cardinality; requests that match no
route count as ``<unmatched>``.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
)

UNMATCHED_ROUTE = "<unmatched>"
_INFERENCE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0)
INFERENCE_OPS = (
    "predict", "predict_batch", "explain", "recommend", "recommend_batch", "drivers", "event",
    "outcome", "load",
)
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class ApiMetrics:
    """The metrics one app exposes at ``/metrics``."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        labels = ("method", "route", "status")
        self.requests = Counter(
            "needgraph_http_requests", "HTTP requests answered.", labels, registry=self.registry
        )
        self.latency = Histogram(
            "needgraph_http_request_duration_seconds",
            "Time to answer an HTTP request.",
            labels,
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.ingest_jobs = Counter(
            "needgraph_ingest_jobs", "Ingest jobs by status.", ("status",), registry=self.registry
        )
        self.ingest_in_progress = Gauge(
            "needgraph_ingest_jobs_in_progress",
            "Ingest jobs queued or running.",
            registry=self.registry,
        )
        self.ingest_rows = Counter(
            "needgraph_ingest_rows",
            "Rows of API ingest jobs.",
            ("outcome",),
            registry=self.registry,
        )
        self.inference = Histogram(
            "needgraph_inference_seconds",
            "Model work per request (seconds), by operation.",
            ("op",),
            buckets=_INFERENCE_BUCKETS,
            registry=self.registry,
        )
        self.events = Counter(
            "needgraph_events",
            "Real-time events received, by kind and result (created, duplicate).",
            ("kind", "result"),
            registry=self.registry,
        )
        self.outcomes = Counter(
            "needgraph_outcomes",
            "Action outcomes received, by status and result (created, duplicate).",
            ("status", "result"),
            registry=self.registry,
        )
        self.model_loaded = Gauge(
            "needgraph_model_loaded", "1 while a model is loaded, else 0.", registry=self.registry
        )
        self.text_linker_loaded = Gauge(
            "needgraph_text_linker_loaded",
            "1 when the events' text linker was loaded with the model (before ready), else 0.",
            registry=self.registry,
        )
        self.live_synced = Counter(
            "needgraph_live_synced_customers",
            "Customers refreshed because another process recorded an event or outcome for them.",
            registry=self.registry,
        )
        self.worker = Gauge(
            "needgraph_worker_info",
            "1, labelled with this process's change-log writer id.",
            ("writer",),
            registry=self.registry,
        )
        self.worker_connections = Gauge(
            "needgraph_worker_connections",
            "Open HTTP connections of each worker (slot) of `needgraph serve --workers N`.",
            ("slot",),
            registry=self.registry,
        )
        self.rebalanced = Counter(
            "needgraph_connections_rebalanced",
            "Connections this worker closed after an answer because it held more than its "
            "share (the client reconnects, maybe to another worker).",
            registry=self.registry,
        )
        self._connection_counts: Callable[[], list[int]] | None = None
        for op in INFERENCE_OPS:
            self.inference.labels(op)
        for status in ("submitted", "done", "failed", "interrupted"):
            self.ingest_jobs.labels(status)
        for outcome in ("read", "written", "quarantined"):
            self.ingest_rows.labels(outcome)

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request and its latency."""
        code = str(status)
        self.requests.labels(method, route, code).inc()
        self.latency.labels(method, route, code).observe(seconds)

    def track_connections(self, counts: Callable[[], list[int]]) -> None:
        """Report ``counts()`` (open connections per worker) as ``needgraph_worker_connections``."""
        self._connection_counts = counts

    def render(self) -> bytes:
        """Return the text exposition of every metric."""
        if self._connection_counts is not None:
            for slot, count in enumerate(self._connection_counts()):
                self.worker_connections.labels(str(slot)).set(count)
        return generate_latest(self.registry)
