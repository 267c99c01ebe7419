"""Settings of the HTTP service only (``NEEDGRAPH_API_*``), read with pydantic-settings.

The store, the ontology folder, logging and the bootstrap admin key come from
:class:`needgraph.config.Settings`; this adds what only the service needs.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MIB = 1024 * 1024


class ApiSettings(BaseSettings):
    """Limits and folders of the API service. Every field has an environment variable."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    max_body_bytes: int = Field(
        1 * MIB,
        ge=1024,
        validation_alias="NEEDGRAPH_API_MAX_BODY_BYTES",
        description="largest JSON request body; larger bodies are refused with 413",
    )
    max_upload_bytes: int = Field(
        64 * MIB,
        ge=1024,
        validation_alias="NEEDGRAPH_API_MAX_UPLOAD_BYTES",
        description="largest ingest upload or ontology import (Turtle) body",
    )
    data_dir: Path = Field(
        Path("needgraph-data/api"),
        validation_alias="NEEDGRAPH_API_DATA_DIR",
        description="folder for uploaded files and ingest job reports",
    )
    mappings_path: Path = Field(
        Path("mappings"),
        validation_alias=AliasChoices("NEEDGRAPH_MAPPINGS", "NEEDGRAPH_API_MAPPINGS"),
        description="folder of named ingest mappings (<name>.yaml)",
    )
    key_cache_seconds: float = Field(
        2.0,
        ge=0,
        le=300,
        validation_alias="NEEDGRAPH_API_KEY_CACHE_SECONDS",
        description="how long API key records are cached (revocations elsewhere lag this much)",
    )
    neighbourhood_cap: int = Field(
        5_000,
        ge=10,
        le=100_000,
        validation_alias="NEEDGRAPH_API_NEIGHBOURHOOD_CAP",
        description="most nodes a neighbourhood query collects before paging (total is capped)",
    )
    idle_sync_seconds: float = Field(
        0.5,
        ge=0,
        le=60,
        validation_alias="NEEDGRAPH_API_IDLE_SYNC_SECONDS",
        description="how often an idle worker catches up with events other workers recorded, "
        "in its answer thread (0: only when a request comes; a worker without requests then "
        "owes its first request every event recorded since)",
    )
    sync_seconds: float = Field(
        0.1,
        ge=0,
        le=60,
        validation_alias="NEEDGRAPH_API_SYNC_SECONDS",
        description="how often a worker looks for events recorded outside this server (another "
        "host or process on the same store, the CLI): one metadata read. Events of this "
        "server's own workers are always seen by the next answer (they count their writes in "
        "shared memory). 0: look before every reasoning request, so an answer reflects every "
        "event any process had answered (a store round trip per answer)",
    )
    preload_text: bool = Field(
        True,
        validation_alias="NEEDGRAPH_API_PRELOAD_TEXT",
        description="load the text linker and embedding model with the model, before the "
        "worker says it is ready (false: the first text event of each worker loads them, ~10 s)",
    )
    shutdown_grace_seconds: float = Field(
        8.0,
        ge=0,
        validation_alias="NEEDGRAPH_API_SHUTDOWN_GRACE_SECONDS",
        description="how long shutdown waits for a running ingest job to reach a batch boundary",
    )
