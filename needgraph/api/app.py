"""The application factory: ``needgraph.api.app:create_app()``.

Layout: routes per resource in :mod:`needgraph.api.routes` (``/v1`` routers are listed in
``V1_ROUTERS``), request/response models in :mod:`needgraph.api.schemas`, the orchestration the
routes call in :mod:`needgraph.api.services`, keys and roles in :mod:`needgraph.security`.
At start-up the store opens, the key ring hashes the bootstrap admin key, the ingest worker
starts, the configured model (if any) loads in the background and the store, ontology and model
readiness checks are registered (others append to
``app.state.readiness_checks``); at shutdown the ingest worker stops at a batch boundary and the
store closes (uvicorn's graceful shutdown drives this).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import Depends, FastAPI

from needgraph import __version__
from needgraph.api.balance import RebalanceMiddleware, worker_table
from needgraph.api.context import install_context_filter
from needgraph.api.deps import reject_repeated_query
from needgraph.api.metrics import ApiMetrics
from needgraph.api.middleware import BodyLimitMiddleware, RequestContextMiddleware
from needgraph.api.openapi import build_openapi
from needgraph.api.problems import install_problem_handlers
from needgraph.api.readiness import ReadinessCheck
from needgraph.api.routes import V1_ROUTERS, health
from needgraph.api.services.ingest_jobs import IngestJobRunner
from needgraph.api.services.model_slot import ModelSlot
from needgraph.api.services.ontology_editor import OntologyEditor
from needgraph.api.settings import ApiSettings
from needgraph.config import Settings, get_settings
from needgraph.graph.factory import open_store
from needgraph.ingest.change_log import change_log
from needgraph.logs import configure_logging
from needgraph.security.keys import KeyRing

log = logging.getLogger("needgraph.api")
UPLOAD_ROUTES = (("POST", "/v1/ingest-jobs"), ("PUT", "/v1/ontology"))
DESCRIPTION = """\
Why customers are unhappy, and what to do: the need-centred cognitive graph of needgraph.

Every `/v1` operation needs an `X-API-Key` header; the key's role (analyst, engine, editor,
admin) decides what it may do. Errors are RFC 9457 `application/problem+json` documents with a
stable `type`. Lists answer `{items, total, limit, offset}` (`limit` at most 500).
`/livez`, `/readyz`, `/metrics` and these docs need no key. See docs/api.md.
"""
TAGS = [
    {"name": "concepts", "description": "Ontology concepts: search (zh/en), read, edit."},
    {"name": "ontology", "description": "The whole ontology: export, import, versions."},
    {"name": "graph", "description": "Nodes and neighbourhoods for drill-down."},
    {
        "name": "reasoning",
        "description": "Predictions, explanations, recommendations and drivers (a model loaded).",
    },
    {"name": "events", "description": "Real-time events and action outcomes (engine)."},
    {"name": "model", "description": "The loaded model; reload it (admin)."},
    {"name": "ingest", "description": "Ingest jobs: upload data, poll reports (admin)."},
    {"name": "keys", "description": "API keys (admin)."},
    {"name": "operations", "description": "Probes and metrics (no key)."},
]


def create_app(
    settings: Settings | None = None, api_settings: ApiSettings | None = None
) -> FastAPI:
    """Build the API app; the store opens at start-up and closes at shutdown.

    Args:
        settings: Settings to use; the process-wide settings when ``None``.
        api_settings: API-only settings (limits, folders); from the environment when ``None``.
    """
    settings = settings or get_settings()
    api_settings = api_settings or ApiSettings()
    configure_logging(settings.log_level, settings.log_format)
    install_context_filter()
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(settings)
        app.state.store = store
        app.state.keyring = KeyRing(
            store,
            bootstrap_admin_key=settings.admin_key.get_secret_value() or None,
            cache_seconds=api_settings.key_cache_seconds,
        )
        editor = OntologyEditor(settings.ontology_path, store)
        app.state.editor = editor
        runner = IngestJobRunner(store, api_settings.data_dir, api_settings.mappings_path, metrics)
        app.state.ingest = runner
        table = worker_table()  # this worker's slot among several (None: the only one)
        changes = change_log(store)
        if table is not None:
            changes.on_commit(table.wrote)  # the sibling workers look at the store at once
        slot = ModelSlot(store, settings, metrics, sync_interval_s=api_settings.sync_seconds,
                         preload_text=api_settings.preload_text,
                         idle_sync_s=api_settings.idle_sync_seconds,
                         sibling_writes=table.sibling_writes if table is not None else None)
        metrics.worker.labels(changes.writer).set(1)
        app.state.model = slot
        app.state.readiness_checks[:0] = [
            ReadinessCheck("store", store.ping),
            ReadinessCheck("ontology", editor.check),
            ReadinessCheck("model", slot.check),
        ]
        runner.start()
        if table is not None:
            metrics.track_connections(table.counts)
        log.info("service started", extra={"store": store.describe(), "version": __version__})
        slot.start()
        try:
            yield
        finally:
            runner.shutdown(api_settings.shutdown_grace_seconds)
            slot.close()
            store.close()
            if table is not None:
                table.release()
            log.info("service stopped")

    app = FastAPI(
        title="needgraph",
        version=__version__,
        summary="Why customers are unhappy, and what to do: predictions, explanations, actions.",
        description=DESCRIPTION,
        openapi_tags=TAGS,
        lifespan=lifespan,
        dependencies=[Depends(reject_repeated_query)],
    )
    app.state.settings = settings
    app.state.api_settings = api_settings
    app.state.metrics = metrics
    app.state.readiness_checks = []
    install_problem_handlers(app)
    app.include_router(health.router)
    for router in V1_ROUTERS:
        app.include_router(router, prefix="/v1")
    app.add_middleware(
        BodyLimitMiddleware,
        default_limit=api_settings.max_body_bytes,
        overrides=dict.fromkeys(UPLOAD_ROUTES, api_settings.max_upload_bytes),
    )
    app.add_middleware(RequestContextMiddleware, metrics=metrics, routes=app.router.routes)
    app.add_middleware(RebalanceMiddleware, metrics=metrics)  # outermost; one worker: no-op
    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    return app
