"""``Endpoint``: where and how one remote model is called, as one small value.

An exchange (``providers.exchange``) needs the provider's name, the model, the URL, the
headers, the wire format and the retry settings of the call it makes, and nothing else of
the LM that makes it. ``RemoteLM.endpoint()`` hands over this value at each call, with the
settings in force then (timeout, retries, retry budget), made again whenever one changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import httpx

from lmbench.lm.types import Attempt
from lmbench.providers.json_codec import json_body
from lmbench.providers.retry import RetryPolicy
from lmbench.providers.retry_budget import RetryBucket
from lmbench.providers.transport import CallState
from lmbench.providers.wire.base import WireFormat, WireRequest

__all__ = ["Endpoint"]


@lru_cache(maxsize=256)
def _url(text: str) -> httpx.URL:
    """``text`` parsed once: httpx copies a given ``URL`` instead of parsing the string again
    on every request (an immutable value, safe to share between calls and threads)."""
    return httpx.URL(text)


def _joined(base_url: str, path: str) -> str:
    """``path`` after the base URL's path, before its query (``.../v1beta?key=...``)."""
    if "?" not in base_url:
        return base_url + path
    base, _, query = base_url.partition("?")
    return f"{base}{path}{'&' if '?' in path else '?'}{query}"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One remote model's address, headers, wire format and retry settings for a call."""

    provider: str
    model: str
    base_url: str
    headers: Mapping[str, str]
    #: The auth headers, read when a request is built (the key is revealed only there).
    auth_headers: Callable[[], dict[str, str]]
    wire: WireFormat
    retry: RetryPolicy
    max_retries: int
    timeout: httpx.Timeout
    #: Where the key comes from, for "no API key" and authentication errors.
    key_hint: str
    #: Media kinds the model takes (``Capabilities.media``; None: whatever the API takes).
    media: frozenset[str] | None = None
    #: The provider's process-wide retry budget (``providers.retry_budget``), None for none.
    budget: RetryBucket | None = None

    def __repr__(self) -> str:  # never the URL's or the headers' credentials
        return f"<Endpoint {self.provider}/{self.model}>"

    def http_request(
        self, client: httpx.Client | httpx.AsyncClient, wire_request: WireRequest, *, stream: bool
    ) -> httpx.Request:
        """The HTTP request carrying ``wire_request``."""
        headers = {**self.headers, **self.auth_headers()}
        if stream and self.wire.stream_format == "sse":
            headers["accept"] = "text/event-stream"
        return client.build_request(
            "POST",
            _url(_joined(self.base_url, wire_request.path)),
            content=json_body(wire_request.body),
            headers=headers,
        )

    def call_state(
        self,
        attempts: list[Attempt],
        started_at: float,
        rejects_request: Callable[[int, str], bool] | None = None,
    ) -> CallState:
        """The retry state of one request."""
        return CallState(
            provider=self.provider,
            model=self.model,
            policy=self.retry,
            max_retries=self.max_retries,
            timeout=self.timeout,
            key_hint=self.key_hint,
            attempts=list(attempts),
            started_at=started_at,
            rejects_request=rejects_request,
            budget=self.budget,
        )
