"""Serve an ASGI app with uvicorn inside a running event loop, for as long as a context lasts.

``barnflow dev``, the benchmark and the tests run the API next to a worker in one process. Two
things differ from ``uvicorn.run``: the socket is bound here first, so a port in use is an
``OSError`` for the caller to report (uvicorn itself would ``sys.exit`` inside a task), and
uvicorn does not take over SIGINT/SIGTERM, because the process that embeds it decides when to
stop (it leaves the context, which stops the server gracefully).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator

import uvicorn
from starlette.types import ASGIApp


class _EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: a free one); ``OSError`` if taken.

    Made with ``IPPROTO_TCP`` named, not the default protocol 0: asyncio sets ``TCP_NODELAY`` on
    an accepted connection only when its socket says ``proto == IPPROTO_TCP``, and connections
    inherit the listening socket's. With 0, every response waited for the client's delayed ACK
    (Nagle's algorithm holding uvicorn's second write): 44 ms per request on loopback, most of
    what bench/api.py measured as the HTTP layer (docs/operations.md "Command latency")."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise OSError(exc.errno, f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


@contextlib.asynccontextmanager
async def serving(
    app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning"
) -> AsyncIterator[str]:
    """Serve ``app`` on ``host:port`` until the context exits; yields the base URL."""
    sock = bind(host, port)
    bound_port = sock.getsockname()[1]
    server = _EmbeddedServer(
        uvicorn.Config(app, host=host, port=bound_port, log_level=log_level, lifespan="off")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():  # failed during startup: surface its error
                task.result()
                raise RuntimeError("the API server stopped during startup")
            await asyncio.sleep(0.02)
        yield f"http://{host}:{bound_port}"
    finally:
        server.should_exit = True
        await asyncio.wait({task})  # a startup error was raised above, not swallowed here
        sock.close()
