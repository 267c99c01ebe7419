"""The application factory: ``needgraph.api.app:create_app()``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from needgraph import __version__
from needgraph.api.problems import install_problem_handlers
from needgraph.api.routes import health
from needgraph.config import Settings, get_settings
from needgraph.graph.factory import open_store


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the API app; the store opens at start-up and closes at shutdown.

    Args:
        settings: Settings to use; the process-wide settings when ``None``.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.store = open_store(settings)
        try:
            yield
        finally:
            app.state.store.close()

    app = FastAPI(
        title="needgraph",
        version=__version__,
        summary="Why customers are unhappy, and what to do: predictions, explanations, actions.",
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.include_router(health.router)
    return app
