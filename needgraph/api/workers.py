"""Several uvicorn workers, each accepting on its own ``SO_REUSEPORT`` socket.

uvicorn's ``--workers`` binds one listening socket in the parent and shares it: every worker's
event loop wakes on a new connection and the first one to run accepts every connection waiting
(asyncio accepts up to ``backlog`` at once). Clients that open their connections together - a
recommendation engine's pool, a load test - then all land on one worker, and with keep-alive
they stay there: measured with 16 clients and 2 workers, one worker used 14.7 s of CPU and the
other 0.04 s, so the service ran on one core. With ``SO_REUSEPORT`` each worker listens on its
own socket bound to the same address, and the kernel spreads new connections over the sockets
by a hash of the connection's addresses and ports.

The parent binds (never listens on) a socket with the option first: it fails early with a clear
message when the port is taken, and resolves ``--port 0`` to one free port for all workers.
Where the option does not exist (Windows), uvicorn's shared socket is used.

The hash spreads new connections, not load: kept-alive connections stay where they landed. The
parent also creates the table in which the workers count their connections, so one holding more
than its share asks clients to reconnect (:mod:`needgraph.api.balance`).
"""

from __future__ import annotations

import logging
import os
import socket
import sys
from contextlib import closing

from uvicorn.config import STARTUP_FAILURE, Config
from uvicorn.supervisors import multiprocess

from needgraph.api.balance import TABLE_ENV, create_table

log = logging.getLogger("needgraph.api")

__all__ = ["ReusePortProcess", "bind_reuse_port", "reuse_port_supported", "run_workers"]


def reuse_port_supported() -> bool:
    """Whether this platform has ``SO_REUSEPORT`` (Linux, BSD, macOS; not Windows)."""
    return hasattr(socket, "SO_REUSEPORT")


def bind_reuse_port(host: str, port: int) -> socket.socket:
    """Bind a TCP socket with ``SO_REUSEADDR`` and ``SO_REUSEPORT`` (not listening yet).

    Args:
        host: Interface address (IPv4, or IPv6 when it contains ``:``).
        port: TCP port (0: any free one).

    Returns:
        The bound socket, inheritable, with protocol ``IPPROTO_TCP`` (so asyncio also sets
        ``TCP_NODELAY`` on the connections it accepts).

    Raises:
        OSError: The address cannot be bound (port taken without the option, no such
            interface).
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class ReusePortProcess(multiprocess.Process):
    """A uvicorn worker process that binds its own ``SO_REUSEPORT`` socket when it starts."""

    def target(self, sockets: list[socket.socket] | None = None) -> None:  # pragma: no cover
        """Bind this worker's socket (in the child process), then serve on it."""
        del sockets  # the parent passes none: each worker binds its own
        try:
            sock = bind_reuse_port(self.config.host, self.config.port)
        except OSError as exc:
            log.error("worker cannot bind %s:%s: %s", self.config.host, self.config.port, exc)
            sys.exit(STARTUP_FAILURE)
        super().target([sock])


def run_workers(config: Config) -> None:
    """Run ``config.workers`` worker processes, each on its own ``SO_REUSEPORT`` socket.

    Blocks until the parent is told to stop (SIGINT/SIGTERM); uvicorn's supervisor restarts a
    worker that dies and stops the workers gracefully.

    Args:
        config: uvicorn configuration with ``workers`` > 1 and a TCP ``host``/``port``.

    Raises:
        SystemExit: The address cannot be bound (exit status 3, uvicorn's start-up failure).
    """
    try:
        probe = bind_reuse_port(config.host, config.port)
    except OSError as exc:
        log.error(
            "cannot bind %s:%s: %s; choose another --port or stop what holds it",
            config.host,
            config.port,
            exc,
        )
        sys.exit(STARTUP_FAILURE)
    with closing(probe):  # bound, never listening: it receives no connections
        config.port = int(probe.getsockname()[1])
        log.info(
            "serving on http://%s:%d with %d workers (SO_REUSEPORT)",
            config.host,
            config.port,
            config.workers,
        )
        # uvicorn's supervisor creates its workers (at start and on restart) from this module
        # global; swap in ours for the supervisor's lifetime.
        original = multiprocess.Process
        multiprocess.Process = ReusePortProcess  # type: ignore[misc]
        table = create_table(config.workers)  # the workers' connection counts (balance.py)
        os.environ[TABLE_ENV] = str(table)  # workers are spawned: they inherit it
        try:
            multiprocess.Multiprocess(config, sockets=[]).run()
        finally:
            multiprocess.Process = original  # type: ignore[misc]
            os.environ.pop(TABLE_ENV, None)
            table.unlink(missing_ok=True)
