"""The red team's tools: distinctive keys, a loopback server that echoes every request
back (headers, path and query in the answer, in error bodies and in response headers), and a
scanner that searches every artifact for a key or a recognizable piece of one."""

from __future__ import annotations

import base64
import json
import logging
import pickle
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from provider_faults import respond

from lmbench.observe.collectors import CompositeCollector, MemoryCollector

#: One key per route, each distinctive from its first characters on (no ``sk-`` shape, so a
#: key is caught by its value, not by a pattern for well-known key formats).
KEYS = {
    "env": "ZenvQ7x9k2LmTr4vWp8sHd3c",
    "api_key": "ZargB5n1q8RtYu6pIo0aKj2f",
    "secret": "ZsecH4g7w1EzXc3vBn9mLk5p",
    "gateway_header": "ZgwyT2r6y0UiOp8aSd4fGh1j",
    "marked_header": "ZmrkV9b3n7MqWe5rTy1uIo6p",
    "userinfo": "ZuriK8j2h6GfDs4aZx0cVb3n",
    "query": "ZqryL1k5j9HgFd7sAz3xCv8b",
    "proxy": "ZprxN6m0b4VcXz2aSd8fGh5j",
    "proxy_env": "ZpenP3o7i1UyTr9eWq5aSd2f",
    "configure": "ZcfgR5t9y3IuOp1aSd7fGh4j",
}
FRAGMENT = 8  # a piece this long from either end of a key counts as a leak


def fragments(key: str) -> tuple[str, ...]:
    """The key, its first and last characters, and the key as HTTP Basic auth sends it."""
    basic = base64.b64encode(f"user:{key}".encode()).decode()
    return (key, key[:FRAGMENT], key[-FRAGMENT:], basic[8:24])


def echoed(handler: Any) -> str:
    """Everything the request carried that is not its body: path, query and headers."""
    headers = "; ".join(f"{k}={v}" for k, v in handler.headers.items())
    return f"{handler.command} {handler.path} {headers}"


def _echo_headers(handler: Any) -> dict[str, str]:
    """The request quoted in response headers lmbench keeps: request id and rate limits."""
    quoted = echoed(handler)[:2000]
    return {"x-echo": quoted, "x-request-id": quoted, "x-ratelimit-remaining-requests": quoted}


def chat_echo(handler: Any) -> None:
    """A 200 chat completion whose answer quotes the whole request (a debugging proxy)."""
    text = f"[[ ## answer ## ]]\nParis (you sent: {echoed(handler)})\n\n[[ ## completed ## ]]"
    body = {
        "id": "chatcmpl-echo",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 5},
    }
    respond(200, body, _echo_headers(handler))(handler)


def error_echo(status: int) -> Any:
    """An error response quoting the whole request in its JSON body and in a header."""

    def step(handler: Any) -> None:
        message = f"rejected: {echoed(handler)}"
        respond(status, {"error": {"message": message}}, _echo_headers(handler))(handler)

    return step


def html_echo(status: int) -> Any:
    """A gateway's HTML error page quoting the request (long enough to be cut short)."""

    def step(handler: Any) -> None:
        page = (
            f"<html><head><title>Denied {echoed(handler)}</title></head>"
            f"<body>{'x' * 700}{echoed(handler)}</body></html>"
        )
        respond(status, page, {"content-type": "text/html"})(handler)

    return step


def stream_echo(handler: Any) -> None:
    """An SSE chat stream whose text quotes the request, split across events."""
    text = f"[[ ## answer ## ]]\nParis {echoed(handler)}\n\n[[ ## completed ## ]]"
    events = [
        f"data: {json.dumps({'choices': [{'index': 0, 'delta': {'content': text[i : i + 7]}}]})}\n\n"
        for i in range(0, len(text), 7)
    ]
    finish = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}], "usage": {}}
    events += [f"data: {json.dumps(finish)}\n\n", "data: [DONE]\n\n"]
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("transfer-encoding", "chunked")
    handler.end_headers()
    for event in events:
        data = event.encode()
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.write(b"0\r\n\r\n")


def exception_texts(error: BaseException) -> list[str]:
    """Every text an exception shows or holds: str, repr, args, attributes, notes, the
    formatted traceback, and the same of every exception chained to it (cause or context,
    shown or suppressed)."""
    import traceback

    out: list[str] = []
    seen: set[int] = set()
    waiting: list[BaseException | None] = [error]
    while waiting:
        current = waiting.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        out += [str(current), repr(current), repr(current.args)]
        out += [repr(vars(current)) if hasattr(current, "__dict__") else ""]
        out += [str(note) for note in getattr(current, "__notes__", ())]
        out.append("".join(traceback.format_exception(current)))
        waiting += [current.__cause__, current.__context__]
    return out


def text_echo(handler: Any) -> None:
    """A 200 whose body is not JSON and quotes the request (a misconfigured gateway)."""
    respond(200, f"upstream says: {echoed(handler)}")(handler)


def wire_error_echo(handler: Any) -> None:
    """A 200 carrying an error object inside (as some gateways answer), quoting the request."""
    respond(200, {"error": {"message": f"upstream failed: {echoed(handler)}"}})(handler)


def stream_garbage_echo(handler: Any) -> None:
    """A stream whose second event is not JSON and quotes the request."""
    first = {"choices": [{"index": 0, "delta": {"content": "Par"}}]}
    events = [f"data: {json.dumps(first)}\n\n", f"data: {{broken {echoed(handler)}\n\n"]
    handler.send_response(200)
    handler.send_header("content-type", "text/event-stream")
    handler.send_header("transfer-encoding", "chunked")
    handler.end_headers()
    for event in events:
        data = event.encode()
        handler.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
    handler.wfile.write(b"0\r\n\r\n")


@dataclass
class Artifacts:
    """Everything a test produced, by name, to be searched for keys."""

    texts: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, value: Any) -> None:
        if isinstance(value, bytes):
            value = value.decode("latin-1")
        elif not isinstance(value, str):
            value = repr(value)
        self.texts[f"{name}#{len(self.texts)}"] = value

    def add_all(self, name: str, values: Iterable[Any]) -> None:
        for value in values:
            self.add(name, value)

    def add_error(self, name: str, error: BaseException) -> None:
        self.add_all(name, exception_texts(error))
        self.add_pickles(name, error)

    def add_pickles(self, name: str, value: Any) -> None:
        """``value`` pickled with pickle and cloudpickle (a refusal's text is scanned too)."""
        import cloudpickle

        for dumps in (pickle.dumps, cloudpickle.dumps):
            try:
                self.add(f"{name} pickled", dumps(value))
            except Exception as exc:
                self.add(f"{name} pickle refused", str(exc))

    def add_files(self, folder: Path) -> None:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                self.add(f"file {path.relative_to(folder)}", path.read_bytes())

    def add_logs(self, records: Iterable[logging.LogRecord]) -> None:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        for record in records:
            self.add(f"log {record.name}", formatter.format(record))
            self.add(f"log args {record.name}", repr(record.args))

    def leaks(self, keys: Iterable[str]) -> list[tuple[str, str, str]]:
        """(artifact, fragment, context) for each key fragment found."""
        found = []
        for name, text in self.texts.items():
            for key in keys:
                for piece in fragments(key):
                    at = text.find(piece)
                    if at >= 0:
                        found.append((name, piece, text[max(0, at - 60) : at + 60]))
                        break
        return found


class Traces(NamedTuple):
    """Where calls leave traces: a memory history, the history that also writes JSONL and
    SQLite files in ``folder``, the disk cache in ``folder / "cache"``, logs at DEBUG (the
    HTTP libraries' included) and the artifacts collected so far."""

    memory: MemoryCollector
    history: CompositeCollector
    folder: Path
    logs: pytest.LogCaptureFixture
    artifacts: Artifacts
