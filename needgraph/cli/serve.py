"""``needgraph serve``: run the API with uvicorn on the configured store."""

from __future__ import annotations

from typing import Annotated, Any

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
    Connections run with ``TCP_NODELAY`` (:mod:`needgraph.api.transport`); with several
    workers each accepts on its own ``SO_REUSEPORT`` socket, so the kernel spreads connections
    over them (:mod:`needgraph.api.workers`).
    """
    import uvicorn

    from needgraph.api.transport import PROTOCOL
    from needgraph.api.workers import reuse_port_supported, run_workers

    options: dict[str, Any] = {
        "factory": True,
        "host": host,
        "port": port,
        "workers": workers,
        "http": PROTOCOL,
        "timeout_graceful_shutdown": 10,
        "log_config": None,
    }
    if workers > 1 and reuse_port_supported():
        run_workers(uvicorn.Config("needgraph.api.app:create_app", **options))
    else:
        uvicorn.run("needgraph.api.app:create_app", **options)
