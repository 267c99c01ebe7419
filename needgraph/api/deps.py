"""Shared FastAPI dependencies (``Annotated`` aliases used by the routes)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from needgraph.config import Settings
from needgraph.graph.base import GraphStore


def get_store(request: Request) -> GraphStore:
    """The store opened at start-up."""
    store: GraphStore = request.app.state.store
    return store


def get_app_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[GraphStore, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
