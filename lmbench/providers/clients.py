"""The httpx clients lmbench makes for itself (clients a caller passes in are used as given):
a pool as large as the official SDKs' and one TLS context shared by all.

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

__all__ = ["CONNECTION_LIMITS", "OwnAsyncClient", "OwnClient", "tls_context"]

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


class _DirectRequests:
    """``build_request`` without the general merge, for a client with nothing to merge."""

    headers: httpx.Headers
    cookies: httpx.Cookies
    timeout: httpx.Timeout

    def _init_direct(self) -> None:
        self._default_headers = {k.lower(): v for k, v in self.headers.items()}

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
    """An async client lmbench made and closes."""

    def __init__(self) -> None:
        super().__init__(limits=CONNECTION_LIMITS, verify=tls_context())
        self._init_direct()
