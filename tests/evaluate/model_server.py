"""A real OpenAI-compatible model server on 127.0.0.1 for evaluation tests and benchmarks.

It answers ``POST /v1/chat/completions`` after ``delay`` seconds, in the ChatAdapter format,
with an answer computed from the prompt: ``item N`` in the question gives ``answer-N``,
except every fifth item (N % 5 == 0), answered ``wrong``. So exact match scores 0.8 on
items 1..N and every run gives the same per-row answers. It serves many keep-alive
connections at once on one asyncio loop (in a thread, or its own process for benchmarks)
and counts the requests that carried an ``authorization`` header.

Run alone: ``python tests/evaluate/model_server.py DELAY`` prints the port, then serves.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

__all__ = ["ModelServer", "answer_for", "running_model_server"]

_ITEM = re.compile(r"item (\d+)")


def answer_for(prompt: str) -> str:
    """What the server answers to ``prompt`` (the last ``item N`` in it decides)."""
    found = _ITEM.findall(prompt)
    if not found:
        return "unknown"
    number = int(found[-1])
    return "wrong" if number % 5 == 0 else f"answer-{number}"


def _body(request: dict) -> bytes:
    prompt = "\n".join(str(m.get("content", "")) for m in request.get("messages", [])[-1:])
    text = f"[[ ## answer ## ]]\n{answer_for(prompt)}\n\n[[ ## completed ## ]]"
    return json.dumps(
        {
            "id": "chatcmpl-loopback",
            "object": "chat.completion",
            "model": request.get("model", "loopback"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 40, "completion_tokens": 8, "total_tokens": 48},
        }
    ).encode()


@dataclass
class ModelServer:
    delay: float = 0.0
    port: int = 0
    requests: int = 0
    with_auth: int = 0
    auth_values: set[str] = field(default_factory=set)
    temperatures: list[float | None] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                self.requests += 1
                if "authorization" in headers:
                    self.with_auth += 1
                    self.auth_values.add(headers["authorization"])
                request = json.loads(body or b"{}")
                if self.delay:
                    await asyncio.sleep(self.delay)
                self.temperatures.append(request.get("temperature"))
                answer = _body(request)
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                    + str(len(answer)).encode()
                    + b"\r\n\r\n"
                    + answer
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def serve(self, ready: threading.Event | None = None) -> None:
        server = await asyncio.start_server(self._handle, "127.0.0.1", self.port, backlog=1024)
        self.port = server.sockets[0].getsockname()[1]
        if ready is not None:
            ready.set()
        async with server:
            await server.serve_forever()


@contextmanager
def running_model_server(delay: float = 0.0) -> Iterator[ModelServer]:
    """The server on a daemon thread of this process, for as long as the block runs."""
    server = ModelServer(delay)
    ready = threading.Event()
    loop = asyncio.new_event_loop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        serving = loop.create_task(server.serve(ready))
        loop.run_forever()
        pending = [*asyncio.all_tasks(loop), serving]
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    ready.wait(10)
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


if __name__ == "__main__":
    standalone = ModelServer(float(sys.argv[1]) if len(sys.argv) > 1 else 0.0)

    async def main() -> None:
        ready = threading.Event()
        serving = asyncio.create_task(standalone.serve(ready))
        while not ready.is_set():
            await asyncio.sleep(0.01)
        print(standalone.port, flush=True)
        await serving

    asyncio.run(main())
