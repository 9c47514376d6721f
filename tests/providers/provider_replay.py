"""Replaying recorded provider exchanges through ``httpx.MockTransport``."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx

from lmbench.lm.base import LM
from lmbench.lm.registry import resolve_lm

__all__ = ["Replay", "clean"]

_DROPPED_HEADERS = {"content-length", "transfer-encoding", "content-encoding", "connection"}


def clean(value: Any) -> Any:
    """Drop None values at any depth, so ``"content": null`` equals a missing key."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


class Replay:
    """Serves a cassette's recorded responses in order and keeps the requests sent."""

    def __init__(self, interactions: list[dict[str, Any]]) -> None:
        self.interactions = interactions
        self.sent: list[httpx.Request] = []

    def _respond(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        assert len(self.sent) <= len(self.interactions), "more requests than the cassette recorded"
        recorded = self.interactions[len(self.sent) - 1]["response"]
        headers = [
            (name, value)
            for name, values in recorded.get("headers", {}).items()
            if name.lower() not in _DROPPED_HEADERS
            for value in values
        ]
        if "parsed_body" in recorded:
            content = json.dumps(recorded["parsed_body"]).encode()
        else:
            content = recorded["body"]["string"].encode()
        return httpx.Response(recorded["status"]["code"], headers=headers, content=content)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self._respond))

    def async_client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self._respond))

    def lm(self, model: str, **settings: Any) -> LM:
        """``resolve_lm(model, **settings)`` with its requests answered by this recording."""
        return resolve_lm(model, http_client=self.client(), **settings)

    def body(self, index: int) -> dict[str, Any]:
        """The JSON body our code sent in request ``index``."""
        return json.loads(self.sent[index].content)

    def recorded_body(self, index: int) -> dict[str, Any]:
        return self.interactions[index]["request"]["parsed_body"]

    def assert_request(self, index: int, *keys: str) -> None:
        """Method, path (and query) and the given body fields match the recorded request."""
        sent = self.sent[index]
        recorded = self.interactions[index]["request"]
        url = urlsplit(recorded["uri"])
        assert sent.method == recorded["method"]
        assert sent.url.path == url.path
        if "alt=sse" in url.query:
            assert sent.url.params.get("alt") == "sse"
        body, expected = clean(self.body(index)), clean(recorded["parsed_body"])
        for key in keys:
            assert body.get(key) == expected.get(key), (
                f"body field {key!r} differs from the recording"
            )
