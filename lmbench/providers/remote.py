"""``RemoteLM``: a model behind an HTTP API, put together from three independent parts:

- a ``Provider`` (base URL, key, auth header, default headers),
- a wire format (request body, response and stream parsing),
- ``Capabilities`` (what the model does natively).

Calls go through the one retry loop (``transport``), sync on an ``httpx.Client`` and
natively async on an ``httpx.AsyncClient`` (one per event loop, as httpx requires). A forked
child process opens connections of its own (never the parent's kept-alive ones).
Timeouts: ``timeout`` is the read timeout (default ``settings.current().timeout``, i.e.
``LMBENCH_TIMEOUT`` or 600 s), ``connect_timeout`` 5 s; retries default to
``settings.current().max_retries``. Both are read at each call when not given, so
``with lmbench.settings.context(timeout=30):`` applies to the calls inside it.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import threading
import weakref
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, NoReturn

import httpx

from lmbench.errors import ConfigError, ProviderError
from lmbench.forked import renew_after_fork
from lmbench.lm.base import BaseLM
from lmbench.lm.types import Attempt, Capabilities, LMRequest, LMResponse, StreamChunk
from lmbench.providers.capabilities import capabilities_for
from lmbench.providers.clients import AsyncClients, OwnClient
from lmbench.providers.endpoint import Endpoint
from lmbench.providers.exchange import Exchange, StreamReader
from lmbench.providers.provider import Provider
from lmbench.providers.retry import RetryPolicy
from lmbench.providers.retry_budget import retry_bucket
from lmbench.providers.streams import aiter_events, iter_events
from lmbench.providers.transport import CallState, asend, send
from lmbench.providers.wire.base import WireFormat
from lmbench.secrets import Secret, is_secret_header, register_secret
from lmbench.settings import current as current_settings

__all__ = ["DEFAULT_CONNECT_TIMEOUT", "RemoteLM"]

DEFAULT_CONNECT_TIMEOUT = 5.0


def _split_headers(
    headers: Mapping[str, str | Secret],
) -> tuple[dict[str, str], dict[str, Secret]]:
    """Plain headers, and the credentials among them as ``Secret`` (known by value to
    ``redact``): those given as ``Secret`` and those named like one (``x-portkey-api-key``,
    ``Helicone-Auth``). Only a request being built sees a credential's value."""
    plain: dict[str, str] = {}
    secret: dict[str, Secret] = {}
    for name, value in headers.items():
        if isinstance(value, Secret):
            secret[name] = value
        elif is_secret_header(name) and value.strip():
            secret[name] = Secret(value, source=f"header {name}")
            # "Bearer <key>": the key alone is the secret, wherever it appears.
            register_secret(value.strip().partition(" ")[2])
        else:
            plain[name] = value
    return plain, secret


def _register_proxy_credentials(client: httpx.Client | httpx.AsyncClient | None) -> None:
    """Know by value the credentials of the proxies a client brought by the user goes
    through (``httpx.Client(proxy="http://user:key@proxy")``): httpx keeps them only as the
    ``Proxy-Authorization`` header of each proxy transport, which a proxy may echo back."""
    for transport in getattr(client, "_mounts", {}).values():
        for name, value in getattr(getattr(transport, "_pool", None), "_proxy_headers", ()):
            if name.lower() == b"proxy-authorization":
                token = value.decode("latin-1").partition(" ")[2]
                register_secret(token)
                with contextlib.suppress(ValueError):
                    register_secret(base64.b64decode(token).decode().partition(":")[2])


class RemoteLM(BaseLM):
    """An LM served over HTTP. Usually made by a registry factory, e.g.
    ``resolve_lm("openai/gpt-4o-mini")``; build one directly for an unusual setup.

    ``http_client`` / ``async_http_client`` let you bring your own httpx clients (proxies,
    transports, connection limits); they are used as they are and not closed here.
    ``headers`` are sent with every request; a value given as ``Secret`` (or under a name
    that says credential, e.g. ``cf-aig-authorization``) is redacted everywhere by value.
    """

    def __init__(
        self,
        model: str,
        *,
        provider: Provider,
        wire: WireFormat,
        capabilities: Capabilities | None = None,
        timeout: float | httpx.Timeout | None = None,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        max_retries: int | None = None,
        retry: RetryPolicy | None = None,
        deadline: float | None = None,
        headers: Mapping[str, str | Secret] | None = None,
        http_client: httpx.Client | httpx.AsyncClient | None = None,
        async_http_client: httpx.AsyncClient | None = None,
        free: bool = False,
    ) -> None:
        if not model:
            raise ConfigError(
                f"no model name given for provider {provider.name!r}: use '{provider.name}/<model>'"
            )
        self.model = model
        self.provider = provider.name
        self.provider_config = provider
        self.wire = wire
        self.free = free
        self._capabilities = capabilities or capabilities_for(provider.name, model)
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._timeouts: dict[float, httpx.Timeout] = {}  # by read timeout, made once each
        policy = retry or RetryPolicy()
        if max_retries is not None:
            policy = policy.replace(max_retries=max_retries)
        if deadline is not None:
            policy = policy.replace(deadline=deadline)
        self.retry = policy
        plain, secret = _split_headers({**provider.headers, **(headers or {})})
        self._headers = {"accept": "application/json", "content-type": "application/json", **plain}
        self._secret_headers = secret
        for given in (http_client, async_http_client):
            _register_proxy_credentials(given)
        if isinstance(http_client, httpx.AsyncClient):
            http_client, async_http_client = None, async_http_client or http_client
        self._client = http_client
        self._owns_client = http_client is None
        self._given_async_client = async_http_client
        self._async_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncClients] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._last_endpoint: tuple[tuple[object, ...], Endpoint] | None = None
        renew_after_fork(self)

    @property
    def capabilities(self) -> Capabilities:
        return self._capabilities

    @property
    def base_url(self) -> str:
        return self.provider_config.base_url

    def __repr__(self) -> str:
        return f"<RemoteLM {self.name} at {self.base_url}>"

    def __copy__(self) -> RemoteLM:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> RemoteLM:
        return self  # a handle on a service: copies share it (and its connections)

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"{self!r} is not pickled: it holds HTTP clients and its key. In another process, "
            f"make it again with lmbench.resolve_lm({self.name!r}) (the key from that "
            "process's environment), or run rows with executor='dask', which does this"
        )

    # -- configuration read at call time ---------------------------------------------------

    def timeout(self) -> httpx.Timeout:
        """The httpx timeouts of the next call."""
        if isinstance(self._timeout, httpx.Timeout):
            return self._timeout
        read = self._timeout if self._timeout is not None else current_settings().timeout
        made = self._timeouts.get(read)
        if made is None:
            made = self._timeouts[read] = httpx.Timeout(read, connect=self._connect_timeout)
        return made

    def endpoint(self) -> Endpoint:
        """Where and how the next call goes, with the settings in force now."""
        settings = current_settings()
        retry = self.retry
        max_retries = settings.max_retries if retry.max_retries is None else retry.max_retries
        timeout = self.timeout()
        budget = retry_bucket(self.provider, self.base_url, settings.retry_budget)
        key = (retry, max_retries, timeout, budget)
        last = self._last_endpoint  # made again only when a setting in force changed
        if last is not None and last[0] == key:
            return last[1]
        endpoint = Endpoint(
            provider=self.provider,
            model=self.model,
            base_url=self.provider_config.request_url(),
            headers=self._headers,
            auth_headers=self._auth_headers
            if self._secret_headers
            else self.provider_config.auth_headers,
            wire=self.wire,
            retry=retry,
            max_retries=max_retries,
            timeout=timeout,
            key_hint=self.provider_config.key_hint,
            media=self._capabilities.media,
            budget=budget,
        )
        self._last_endpoint = (key, endpoint)
        return endpoint

    def _auth_headers(self) -> dict[str, str]:
        """The key's header and the credential headers, for one request."""
        headers = self.provider_config.auth_headers()
        headers.update((name, secret.reveal()) for name, secret in self._secret_headers.items())
        return headers

    def call_state(self, attempts: list[Attempt], started_at: float) -> CallState:
        """The retry state of one request, with the settings in force now."""
        return self.endpoint().call_state(attempts, started_at)

    # -- clients -----------------------------------------------------------------------------

    def _sync_client(self) -> httpx.Client:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = OwnClient()
        return self._client

    def _async_client(self) -> httpx.AsyncClient:
        if self._given_async_client is not None:
            return self._given_async_client
        loop = asyncio.get_running_loop()
        clients = self._async_clients.get(loop)
        if clients is None:
            with self._lock:
                # A client holds its loop (its connections do), so a loop's entry never goes by
                # itself: the clients of loops closed since (one per ``asyncio.run``) are let go
                # here, their connections with them, instead of piling up open sockets.
                for closed in [old for old in self._async_clients if old.is_closed()]:
                    del self._async_clients[closed]
                clients = self._async_clients[loop] = AsyncClients()
        return clients.pick()

    def _after_fork(self) -> None:
        """In a forked child: drop the clients made in the parent, unclosed (their sockets are
        the parent's; two processes on one kept-alive connection read each other's answers).
        The next call opens connections of its own. Clients passed in are the caller's."""
        self._lock = threading.Lock()
        if self._owns_client:
            self._client = None
        self._async_clients = weakref.WeakKeyDictionary()

    def close(self) -> None:
        """Close the sync client made here (clients passed in are left open)."""
        if self._owns_client and self._client is not None:
            self._client.close()
            self._client = None

    async def aclose(self) -> None:
        """Close this event loop's async clients made here."""
        clients = self._async_clients.pop(asyncio.get_running_loop(), None)
        if clients is not None:
            await clients.aclose()

    def __enter__(self) -> RemoteLM:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> RemoteLM:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- calls ---------------------------------------------------------------------------------

    def _open(self, request: LMRequest, *, stream: bool) -> tuple[Exchange, httpx.Response]:
        exchange = Exchange(self.endpoint(), request, stream=stream)
        client = self._sync_client()
        while True:
            http_request, call = exchange.prepare(client)
            try:
                return exchange, send(client, http_request, call, stream=stream)
            except ProviderError as exc:
                if not exchange.fall_back(exc):
                    raise

    async def _aopen(self, request: LMRequest, *, stream: bool) -> tuple[Exchange, httpx.Response]:
        exchange = Exchange(self.endpoint(), request, stream=stream)
        client = self._async_client()
        while True:
            http_request, call = exchange.prepare(client)
            try:
                return exchange, await asend(client, http_request, call, stream=stream)
            except ProviderError as exc:
                if not exchange.fall_back(exc):
                    raise

    def generate(self, request: LMRequest) -> LMResponse:
        exchange, response = self._open(request, stream=False)
        return exchange.parse_body(response)

    async def agenerate(self, request: LMRequest) -> LMResponse:
        exchange, response = await self._aopen(request, stream=False)
        return exchange.parse_body(response)

    # A stream cut short raises its error outside the ``except`` block, and without the
    # httpx error as its cause: that one holds the request (its URL and auth header).
    def stream(self, request: LMRequest) -> Iterator[StreamChunk]:
        exchange, response = self._open(request, stream=True)
        reader = StreamReader(exchange, response)
        cut: ProviderError | None = None
        try:
            if not reader.is_event_stream():
                response.read()
                yield from reader.whole_body()
                return
            for event, data in iter_events(response, self.wire.stream_format):
                yield from reader.feed(event, data)
        except httpx.RequestError as exc:  # cut, timed out or undecodable midway
            cut = reader.cut(exc)
        finally:
            response.close()
        yield from reader.held_back()
        if cut is not None:
            raise cut
        yield reader.finish()

    async def astream(self, request: LMRequest) -> AsyncIterator[StreamChunk]:
        exchange, response = await self._aopen(request, stream=True)
        reader = StreamReader(exchange, response)
        cut: ProviderError | None = None
        try:
            if not reader.is_event_stream():
                await response.aread()
                for chunk in reader.whole_body():
                    yield chunk
                return
            async for event, data in aiter_events(response, self.wire.stream_format):
                for chunk in reader.feed(event, data):
                    yield chunk
        except httpx.RequestError as exc:  # cut, timed out or undecodable midway
            cut = reader.cut(exc)
        finally:
            await response.aclose()
        for chunk in reader.held_back():
            yield chunk
        if cut is not None:
            raise cut
        yield reader.finish()
