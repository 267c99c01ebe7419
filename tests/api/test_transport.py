"""``needgraph serve``'s HTTP protocol switches Nagle's algorithm off on every connection."""

from __future__ import annotations

import asyncio
import socket

from needgraph.api.transport import NoDelayHTTPProtocol, set_nodelay


def _nodelay(sock: socket.socket) -> bool:
    return bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))


def test_connections_of_a_uvicorn_style_socket_get_tcp_nodelay() -> None:
    """A listening socket made like uvicorn's multi-worker one (``proto`` 0) leaves Nagle on."""
    seen: dict[str, bool] = {}

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            seen["asyncio"] = _nodelay(sock)
            seen["returned"] = set_nodelay(transport)
            seen["after"] = _nodelay(sock)
            transport.close()

    async def run() -> None:
        listener = socket.socket(family=socket.AF_INET)  # what uvicorn binds for --workers > 1
        listener.bind(("127.0.0.1", 0))
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        port = listener.getsockname()[1]
        _reader, writer = await asyncio.open_connection("127.0.0.1", port)
        for _ in range(100):
            if "after" in seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
        server.close()
        await server.wait_closed()

    asyncio.run(run())
    assert seen == {"asyncio": False, "returned": True, "after": True}


def test_the_serve_protocol_is_uvicorns_with_nodelay() -> None:
    from uvicorn.config import Config

    from needgraph.api.transport import PROTOCOL

    config = Config("needgraph.api.app:create_app", factory=True, http=PROTOCOL)
    config.load()
    assert config.http_protocol_class is NoDelayHTTPProtocol
