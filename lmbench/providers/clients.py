"""The httpx clients lmbench makes for itself (clients a caller passes in are used as given).

httpx's ``Client.build_request`` merges the client's base URL, params, headers, cookies and
timeout into every request, a good part of a request's own cost on a fast network. A client
made here has none of those but its default headers (and the cookies a server may set), so
its requests are built directly from those headers; once it holds a cookie, or for any
argument beyond the body and headers, it builds them the general way.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = ["OwnAsyncClient", "OwnClient"]


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
        super().__init__()
        self._init_direct()


class OwnAsyncClient(_DirectRequests, httpx.AsyncClient):
    """An async client lmbench made and closes."""

    def __init__(self) -> None:
        super().__init__()
        self._init_direct()
