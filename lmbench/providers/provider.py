"""Where a remote API lives and how to authenticate to it: base URL, key, auth header,
default headers. Nothing here knows a request or response shape (see ``wire``).

The key is an explicit ``api_key=`` or, when none is given, read from the provider's
environment variable(s) at each call, so a key set after the LM was created is used.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from urllib.parse import urlsplit

from lmbench.errors import AuthenticationError
from lmbench.secrets import Secret, register_url_secrets, url_secrets, without_url_secrets

__all__ = ["Provider", "is_loopback"]


@lru_cache(maxsize=32)
def _env_secret(name: str, value: str) -> Secret:
    """The ``Secret`` of an environment variable's value, made once per value."""
    return Secret(value, source=name)


def is_loopback(url: str) -> bool:
    """Whether ``url`` points at this machine (a local server needs no key)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Provider:
    """A remote API endpoint: ``name`` (the registry prefix), ``base_url``, how the key is
    sent (``auth_header``, with ``auth_scheme`` before it, e.g. ``Bearer``), where it comes
    from (``api_key`` or the ``key_env`` variables, first set wins) and whether calls may go
    without one (``key_required``). A key inside the base URL is kept apart (``keyed_url``):
    ``base_url`` never shows it."""

    name: str
    base_url: str
    api_key: Secret | None = None
    key_env: tuple[str, ...] = ()
    key_required: bool = True
    auth_header: str = "Authorization"
    auth_scheme: str = "Bearer"
    headers: Mapping[str, str] = field(default_factory=dict)
    #: The base URL as given, when it carries a key (``https://user:key@host``,
    #: ``?key=...``): requests go there, while ``base_url`` is the URL without the key.
    keyed_url: Secret | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        url = self.base_url.rstrip("/")
        keyed = self.keyed_url
        if url_secrets(url):
            register_url_secrets(url)  # known by value: redacted wherever it shows up
            keyed = Secret(url, source="base_url")
        elif keyed is not None and without_url_secrets(keyed.reveal()) != url:
            keyed = None  # ``dataclasses.replace`` gave another base URL
        object.__setattr__(self, "keyed_url", keyed)
        object.__setattr__(self, "base_url", without_url_secrets(url))

    def request_url(self) -> str:
        """Where requests go: the base URL with its key, if it has one."""
        return self.keyed_url.reveal() if self.keyed_url is not None else self.base_url

    def __repr__(self) -> str:
        return f"Provider({self.name!r}, base_url={self.base_url!r}, key={self.api_key!r})"

    def key(self) -> Secret | None:
        """The key to use now: ``api_key=``, else the first environment variable set."""
        if self.api_key is not None:
            return self.api_key
        for name in self.key_env:
            value = os.environ.get(name, "").strip()
            if value:
                return _env_secret(name, value)
        return None

    @cached_property
    def key_hint(self) -> str:
        """How to configure the key, for error messages."""
        if self.api_key is not None:
            return "the api_key= given was rejected; pass a valid one"
        if not self.key_env:
            return "pass api_key=..."
        return f"set the {' or '.join(self.key_env)} environment variable, or pass api_key=..."

    def auth_headers(self) -> dict[str, str]:
        """The auth header for one request; raises when a required key is missing."""
        secret = self.key()
        if secret is None:
            if self.key_required and not is_loopback(self.base_url):
                raise AuthenticationError(
                    f"no API key for {self.name}: {self.key_hint}",
                    provider=self.name,
                )
            return {}
        value = f"{self.auth_scheme} {secret.reveal()}" if self.auth_scheme else secret.reveal()
        return {self.auth_header: value}
