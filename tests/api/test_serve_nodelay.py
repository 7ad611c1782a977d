"""The embedded API server (``barnflow dev``, the benchmark, the tests) answers without Nagle's
delay: every accepted connection has ``TCP_NODELAY``. Its listening socket once had protocol 0,
so asyncio left Nagle on and each response waited about 40 ms for the client's delayed ACK
(docs/operations.md "Command latency")."""

from __future__ import annotations

import asyncio
import socket

from infra.api.serve import bind


async def test_connections_accepted_on_the_bound_socket_send_without_nagle() -> None:
    sock = bind("127.0.0.1", 0)
    port = sock.getsockname()[1]
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn: socket.socket = writer.get_extra_info("socket")
        accepted.set_result(conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        writer.close()

    server = await asyncio.start_server(on_connect, sock=sock)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        assert await asyncio.wait_for(accepted, 10) != 0
        writer.close()
    finally:
        server.close()
        await server.wait_closed()
