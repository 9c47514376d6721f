"""``RemoteEmbeddingModel``: an embedding endpoint behind an HTTP API.

It rides on a ``RemoteLM`` of the same provider for everything that is not the body: its
``Endpoint`` (base URL, key and auth header, timeouts, retry settings), its clients (one per
event loop) and the one retry loop (``transport``). Only the request and response shapes differ, and those are the embedding
wire format's (``providers/wire/*_embeddings.py``).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from lmbench.errors import ProviderError
from lmbench.lm.embedding import BaseEmbeddingModel, EmbeddingRequest, EmbeddingResponse
from lmbench.providers.http_errors import html_summary, not_json, request_id_from
from lmbench.providers.json_codec import json_of
from lmbench.providers.remote import RemoteLM
from lmbench.providers.transport import CallState, asend, send
from lmbench.providers.wire.base import WireError, WireRequest, shape_checked
from lmbench.providers.wire.embeddings_base import EmbeddingWire
from lmbench.secrets import redact

__all__ = ["RemoteEmbeddingModel"]


_NOT_JSON = object()


class RemoteEmbeddingModel(BaseEmbeddingModel):
    """Embeddings from ``endpoint``'s server in ``wire``'s format (made by
    ``lmbench.providers.embedding_catalog``, e.g. for ``"openai/text-embedding-3-small"``)."""

    def __init__(
        self, remote: RemoteLM, wire: EmbeddingWire, *, max_batch: int | None = None
    ) -> None:
        self.remote = remote
        self.wire = wire
        self.provider = remote.provider
        self.model = remote.model
        self.free = remote.free
        self.max_batch = max_batch or wire.max_batch

    @property
    def base_url(self) -> str:
        return self.remote.base_url

    def __repr__(self) -> str:
        return f"<RemoteEmbeddingModel {self.name} at {self.base_url}>"

    def _prepare(
        self, client: httpx.Client | httpx.AsyncClient, request: EmbeddingRequest
    ) -> tuple[WireRequest, httpx.Request, CallState]:
        endpoint = self.remote.endpoint()  # the settings in force now (timeout, retries)
        wire_request = self.wire.build(request, self.model)
        http_request = endpoint.http_request(client, wire_request, stream=False)
        return wire_request, http_request, endpoint.call_state([], time.monotonic())

    def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        started = time.perf_counter()
        client = self.remote._sync_client()
        wire_request, http_request, call = self._prepare(client, request)
        response = send(client, http_request, call, stream=False)
        return self._complete(request, wire_request, response, call, started)

    async def aembed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        started = time.perf_counter()
        client = self.remote._async_client()
        wire_request, http_request, call = self._prepare(client, request)
        response = await asend(client, http_request, call, stream=False)
        return self._complete(request, wire_request, response, call, started)

    def _error(self, message: str, status: int | None, call: CallState) -> ProviderError:
        return ProviderError(
            redact(message), provider=self.provider, status=status, attempts=list(call.attempts)
        )

    def _complete(
        self,
        request: EmbeddingRequest,
        wire_request: WireRequest,
        response: httpx.Response,
        call: CallState,
        started: float,
    ) -> EmbeddingResponse:
        """The response's vectors, with what the wire format cannot know filled in."""
        # Errors are raised after the except blocks: the decoding error holds the whole body.
        try:
            data: Any = json_of(response)
        except ValueError:
            data = _NOT_JSON
        if data is _NOT_JSON:
            text = redact(response.text)  # before it is cut short: no piece of a key
            message = html_summary(text) or not_json(text, response.headers.get("content-type"))
            raise self._error(message, response.status_code, call)
        try:
            parsed = shape_checked(self.wire.name, self.wire.parse, data, request)
        except WireError as exc:
            failure = exc
        else:
            failure = None
        if failure is not None:
            raise self._error(failure.message, failure.status or response.status_code, call)
        parsed.provider = self.provider
        parsed.model = parsed.model or self.model
        parsed.request_id = request_id_from(response.headers) or parsed.metadata.get("response_id")
        parsed.latency_s = time.perf_counter() - started
        parsed.attempts = list(call.attempts)
        parsed.metadata["requested_model"] = self.model
        if wire_request.ignored:
            parsed.metadata["ignored_params"] = list(wire_request.ignored)
        return parsed
