"""``needgraph serve``: run the API with uvicorn on the configured store."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[int, typer.Option(
        min=1, help="Worker processes; each loads the model (about one core each, see "
        "docs/api.md: 'Several workers and the model').")] = 1,
) -> None:
    """Serve the needgraph API (``needgraph.api.app:create_app``).

    Every worker process loads the model and exports the store into its own memory; events and
    outcomes recorded by one worker reach the others' answers through the store's change log.
    Connections run with ``TCP_NODELAY`` (:mod:`needgraph.api.transport`).
    """
    import uvicorn

    from needgraph.api.transport import PROTOCOL

    uvicorn.run(
        "needgraph.api.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=PROTOCOL,
        timeout_graceful_shutdown=10,
        log_config=None,
    )
