"""A keep-alive HTTP/1.1 server on loopback that answers every POST with the same bytes.

Shared by the benchmarks that time real HTTP. The server runs in its own process (sharing
the benchmark's would make both wait on the GIL): a benchmark script calls
``serve(RESPONSE)`` when started with ``--serve`` and ``start_server(__file__)`` to start
that child and learn its port.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys


def http_response(body: bytes, headers: bytes = b"") -> bytes:
    """A complete ``200 OK`` answer carrying the JSON ``body`` (``headers``: extra header
    lines, each ending in CRLF)."""
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + headers
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


class _Answer(asyncio.Protocol):
    """Keep-alive HTTP/1.1 with ``TCP_NODELAY``: every complete POST gets ``response``."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.buffer = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        sock = transport.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while b"\r\n\r\n" in self.buffer:
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(rest) < length:
                return
            self.buffer = rest[length:]
            self.transport.write(self.response)  # type: ignore[attr-defined]


def serve(response: bytes) -> None:
    """Run the server until killed, printing its port first (in the child process)."""
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(lambda: _Answer(response), "127.0.0.1", 0))
    print(server.sockets[0].getsockname()[1], flush=True)
    loop.run_forever()


def start_server(script: str) -> tuple[subprocess.Popen[str], int]:
    """Start ``script --serve`` as the server process; the child and its port."""
    child = subprocess.Popen([sys.executable, script, "--serve"], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    return child, int(child.stdout.readline())
