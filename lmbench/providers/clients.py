"""The httpx clients lmbench makes for itself (clients a caller passes in are used as given):
a pool as large as the official SDKs' and one TLS context shared by all; cookies read only
from responses that set some.

httpx's ``Client.build_request`` merges the client's base URL, params, headers, cookies and
timeout into every request, a good part of a request's own cost on a fast network. A client
made here has none of those but its default headers (and the cookies a server may set), so
its requests are built directly from those headers; once it holds a cookie, or for any
argument beyond the body and headers, it builds them the general way.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import httpx

__all__ = ["CONNECTION_LIMITS", "AsyncClients", "OwnAsyncClient", "OwnClient", "tls_context"]

# The official SDKs' pool: httpx's own default keeps only 20 idle connections, so any run
# with more calls in flight (evaluate on 64 threads, 100 async calls at once) closed the
# rest after each answer and opened new ones for the next calls.
CONNECTION_LIMITS = httpx.Limits(max_connections=1000, max_keepalive_connections=100)


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context of every client made here, built once per process as httpx builds its
    default one (certifi's CA bundle, or ``SSL_CERT_FILE``/``SSL_CERT_DIR``). Building one
    reads the whole CA bundle, which every new client (each LM, each event loop) paid again."""
    return httpx.create_ssl_context()


class _CookiesSet(httpx.Cookies):
    """A client's cookie jar that reads a response's cookies only when it sets some: httpx
    hands every response to ``http.cookiejar``, which builds a ``urllib`` request and an
    ``email`` message for it first, a quarter of the cost of a call on a fast network."""

    def extract_cookies(self, response: httpx.Response) -> None:
        headers = response.headers
        if "set-cookie" in headers or "set-cookie2" in headers:
            super().extract_cookies(response)


class _DirectRequests:
    """``build_request`` without the general merge, for a client with nothing to merge."""

    headers: httpx.Headers
    cookies: httpx.Cookies
    timeout: httpx.Timeout

    def _init_direct(self) -> None:
        self._default_headers = {k.lower(): v for k, v in self.headers.items()}
        # httpx keeps the jar in ``_cookies`` (its ``cookies`` setter would copy it into a
        # plain one); were that to change, this jar would go unused and nothing else.
        self._cookies = _CookiesSet()

    def build_request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        **rest: Any,
    ) -> httpx.Request:
        if rest or self.cookies:
            return super().build_request(  # type: ignore[misc,no-any-return]
                method, url, content=content, headers=headers, **rest
            )
        merged = dict(self._default_headers)  # names in lower case
        if headers:
            for name, value in headers.items():  # each replaces a default of any case
                lower = name.lower()
                if lower != name:
                    merged.pop(lower, None)
                merged[name] = value
        return httpx.Request(
            method,
            url,
            content=content,
            headers=merged,
            extensions={"timeout": self.timeout.as_dict()},
        )


class OwnClient(_DirectRequests, httpx.Client):
    """A sync client lmbench made and closes."""

    def __init__(self) -> None:
        super().__init__(limits=CONNECTION_LIMITS, verify=tls_context())
        self._init_direct()


class OwnAsyncClient(_DirectRequests, httpx.AsyncClient):
    """An async client lmbench made and closes; ``in_flight`` counts the requests it is
    sending (until their response headers are in)."""

    def __init__(self) -> None:
        super().__init__(limits=CONNECTION_LIMITS, verify=tls_context())
        self._init_direct()
        self.in_flight = 0

    async def send(self, request: httpx.Request, **options: Any) -> httpx.Response:
        self.in_flight += 1
        try:
            return await super().send(request, **options)
        finally:
            self.in_flight -= 1


class AsyncClients:
    """The async clients of one LM on one event loop: one, and more while many calls are in
    flight at once.

    httpcore's connection pool looks at every connection it holds each time a request comes
    or goes, so a request's cost grows with the number of connections in its pool: with 100
    calls at once, that scan was a third of the time. Calls go to the first client with
    fewer than ``BUSY`` in flight, and a new client is made when all are busy (up to
    ``MOST``), so no pool holds many more than ``BUSY`` connections. One call at a time
    uses one client and one connection, as before.
    """

    BUSY = 8
    MOST = 32

    def __init__(self) -> None:
        self.clients: list[OwnAsyncClient] = [OwnAsyncClient()]

    def pick(self) -> OwnAsyncClient:
        """The client for the next call."""
        for client in self.clients:
            if client.in_flight < self.BUSY:
                return client
        if len(self.clients) < self.MOST:
            client = OwnAsyncClient()
            self.clients.append(client)
            return client
        return min(self.clients, key=lambda client: client.in_flight)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()
