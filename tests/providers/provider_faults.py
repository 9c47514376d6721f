"""A real HTTP/1.1 server on 127.0.0.1 answering each request with the next scripted
behaviour: responses, slow responses, connection resets, streams cut midway."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "FaultServer",
    "chat_body",
    "chat_events",
    "drop",
    "echo",
    "raw",
    "redirect",
    "reset",
    "respond",
    "response_bytes",
    "running_server",
    "slow",
    "slow_body",
    "sse",
    "trickle",
]

Step = Callable[["_Handler"], None]


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    peer: tuple[str, int] = ("", 0)  # the client's address: one port per connection


@dataclass
class FaultServer:
    """Answers request N with step N of the script (then ``default``); records every request."""

    host: str = "127.0.0.1"
    port: int = 0
    steps: deque[Step] = field(default_factory=deque)
    default: Step | None = None
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def script(self, *steps: Step) -> None:
        self.steps.extend(steps)

    def next_step(self, received: Received) -> Step:
        with self.lock:
            self.received.append(received)
            if self.steps:
                return self.steps.popleft()
        assert self.default is not None, "the server received more requests than scripted"
        return self.default

    @property
    def count(self) -> int:
        with self.lock:
            return len(self.received)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    received: Received  # the request being answered
    disable_nagle_algorithm = True  # headers and body go out at once, no 40 ms delayed-ACK stall
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = raw.decode(errors="replace")
        received = self.received = Received(
            self.command, self.path, dict(self.headers.items()), body, self.client_address
        )
        step = self.server.faults.next_step(received)
        try:
            step(self)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # many clients connecting at once are queued, not refused
    faults: FaultServer

    def handle_error(self, request: Any, client_address: Any) -> None:  # faults are on purpose
        return


def respond(status: int = 200, body: Any = None, headers: dict[str, str] | None = None) -> Step:
    """Answer with ``status``, a JSON (dict/list) or text body, and extra headers."""

    def step(handler: _Handler) -> None:
        if isinstance(body, (dict, list)):
            content, kind = json.dumps(body).encode(), "application/json"
        else:
            content, kind = (body or "").encode(), "text/plain"
        handler.send_response(status)
        handler.send_header("content-type", kind)
        handler.send_header("content-length", str(len(content)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(content)

    return step


def reset() -> Step:
    """Drop the connection with a TCP reset, sending nothing."""

    def step(handler: _Handler) -> None:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.close_connection = True
        handler.connection.close()

    return step


def drop() -> Step:
    """Close the connection cleanly (FIN) without answering, as a server does to a kept-alive
    connection it has just timed out."""

    def step(handler: _Handler) -> None:
        handler.close_connection = True
        handler.connection.shutdown(socket.SHUT_RDWR)

    return step


def raw(data: bytes, *, close: bool = True) -> Step:
    """Send ``data`` as it is (a status line, headers and a body that may lie), then close the
    connection unless ``close`` is False."""

    def step(handler: _Handler) -> None:
        handler.wfile.write(data)
        handler.wfile.flush()
        if close:
            handler.close_connection = True
            handler.connection.shutdown(socket.SHUT_RDWR)

    return step


def response_bytes(
    status: int = 200,
    body: bytes = b"",
    *,
    headers: dict[str, str] | None = None,
    content_length: int | None = None,
) -> bytes:
    """An HTTP/1.1 answer as bytes for ``raw``; ``content_length`` (when given) may lie."""
    lines = [f"HTTP/1.1 {status} Answer", "content-type: application/json"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if content_length is not None:
        lines.append(f"content-length: {content_length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def redirect(location: str, status: int = 307) -> Step:
    """Answer with a redirect to ``location`` (a path of this server makes a loop)."""
    return respond(status, "", {"location": location})


def slow_body(seconds: float, body: Any, *, status: int = 200) -> Step:
    """Send the headers at once and the JSON ``body`` only after ``seconds``."""

    def step(handler: _Handler) -> None:
        content = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(content)))
        handler.end_headers()
        handler.wfile.flush()
        time.sleep(seconds)
        handler.wfile.write(content)

    return step


def slow(seconds: float, then: Step) -> Step:
    """Wait ``seconds`` before answering (to run past the client's read timeout)."""

    def step(handler: _Handler) -> None:
        time.sleep(seconds)
        then(handler)

    return step


def sse(
    events: list[str], *, cut_after: int | None = None, content_type: str = "text/event-stream"
) -> Step:
    """Stream ``events`` (each a full ``data: ...`` block) chunked; with ``cut_after``, drop the
    connection after that many events, mid-body."""

    def step(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", content_type)
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()
        for number, event in enumerate(events):
            if cut_after is not None and number == cut_after:
                handler.wfile.flush()
                reset()(handler)
                return
            data = event.encode()
            handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            handler.wfile.flush()
        handler.wfile.write(b"0\r\n\r\n")

    return step


def trickle(events: list[str], every: float, *, content_type: str = "text/event-stream") -> Step:
    """Stream ``events`` one every ``every`` seconds (a client that stops reading or is
    cancelled midway finds the server still sending); a closed connection ends it quietly."""

    def step(handler: _Handler) -> None:
        handler.send_response(200)
        handler.send_header("content-type", content_type)
        handler.send_header("transfer-encoding", "chunked")
        handler.end_headers()
        try:
            for event in events:
                data = event.encode()
                handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                handler.wfile.flush()
                time.sleep(every)
            handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            handler.close_connection = True

    return step


def echo(answer: Callable[[Received], Step]) -> Step:
    """Answer each request with the step ``answer`` makes of it (answers that depend on the
    question, for concurrent callers)."""

    def step(handler: _Handler) -> None:
        answer(handler.received)(handler)

    return step


def chat_body(
    text: str = "ok", *, model: str = "m", prompt_tokens: int = 3, completion_tokens: int = 1
) -> dict[str, Any]:
    """A minimal OpenAI chat completion body."""
    return {
        "id": "chatcmpl-test",
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens},
    }


def anthropic_cited_body(*blocks: dict[str, Any], output_tokens: int = 5) -> dict[str, Any]:
    """An Anthropic message body of text ``blocks`` (see ``cited_text_block``)."""
    return {
        "id": "msg_1",
        "model": "claude-haiku-4-5",
        "content": list(blocks),
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 10, "output_tokens": output_tokens},
    }


def cited_text_block(text: str) -> dict[str, Any]:
    """An Anthropic text block citing "The sky is green." (characters 0-17 of document 0,
    titled "notes")."""
    citation = {
        "type": "char_location",
        "cited_text": "The sky is green.",
        "document_index": 0,
        "document_title": "notes",
        "start_char_index": 0,
        "end_char_index": 17,
    }
    return {"type": "text", "text": text, "citations": [citation]}


def chat_events(*texts: str) -> list[str]:
    """OpenAI chat stream events for ``texts``, ending with a finish reason and [DONE]."""
    events = [
        f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': t}}]})}\n\n"
        for t in texts
    ]
    finish = {
        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 2, "completion_tokens": len(texts)},
    }
    return [*events, f"data: {json.dumps(finish)}\n\n", "data: [DONE]\n\n"]


@contextmanager
def running_server() -> Iterator[FaultServer]:
    """A started ``FaultServer``, shut down on exit."""
    faults = FaultServer()
    httpd = _Server((faults.host, 0), _Handler)
    httpd.faults = faults
    faults.port = httpd.server_address[1]
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield faults
    finally:
        httpd.shutdown()
        httpd.server_close()
