"""Error bodies of every API turned into lmbench's error types, with the provider's words."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from provider_faults import FaultServer, respond

from lmbench.errors import (
    AuthenticationError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeout,
    RateLimitError,
)
from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import LMRequest, Message
from lmbench.providers.http_errors import (
    error_for_status,
    error_for_transport,
    error_message,
    html_page_title,
    request_id_from,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            },
            "Incorrect API key provided (invalid_api_key)",
        ),
        (
            {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            "Overloaded (overloaded_error)",
        ),
        (
            {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}},
            "API key not valid. (INVALID_ARGUMENT)",
        ),
        (
            [
                {
                    "error": {
                        "code": 429,
                        "message": "Resource exhausted",
                        "status": "RESOURCE_EXHAUSTED",
                    }
                }
            ],
            "Resource exhausted (RESOURCE_EXHAUSTED)",
        ),
        (
            {
                "error": {
                    "code": 429,
                    "message": "Provider returned error",
                    "metadata": {"raw": "upstream busy"},
                }
            },
            "Provider returned error: upstream busy",
        ),
        ({"error": "model 'x' not found"}, "model 'x' not found"),
        (
            {"id": "abc", "message": "invalid request: model not found"},
            "invalid request: model not found",
        ),
        (
            {"detail": [{"loc": ["body", "response_format", "type"], "msg": "unexpected value"}]},
            "body.response_format.type: unexpected value",
        ),
    ],
)
def test_messages_from_each_error_shape(body: Any, expected: str) -> None:
    assert error_message(json.dumps(body), "fallback") == expected


def test_plain_text_and_empty_bodies() -> None:
    assert error_message("upstream connect error", "Bad Gateway") == "upstream connect error"
    assert error_message("", "Bad Gateway") == "Bad Gateway"
    assert error_message("x" * 2000, "f").endswith("...")


def _response(
    status: int, body: dict[str, Any], headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status,
        json=body,
        headers=headers,
        request=httpx.Request("POST", "https://api.example.com/v1"),
    )


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, AuthenticationError),
        (403, AuthenticationError),
        (429, RateLimitError),
        (408, ProviderTimeout),
        (500, ProviderError),
    ],
)
def test_status_mapping(status: int, kind: type[ProviderError]) -> None:
    response = _response(status, {"error": {"message": "nope"}}, {"x-request-id": "req_123"})
    error = error_for_status(
        provider="openai",
        model="gpt-x",
        response=response,
        retryable=False,
        key_hint="set OPENAI_API_KEY",
        attempts=[],
    )
    assert type(error) is kind
    assert (error.status, error.provider, error.request_id) == (status, "openai", "req_123")
    assert str(error).startswith(f"openai HTTP {status}: nope")
    if kind is AuthenticationError:
        assert "Check the API key: set OPENAI_API_KEY." in error.message


def test_transport_mapping() -> None:
    timeout = error_for_transport(
        provider="p", exc=httpx.ReadTimeout("timed out"), retryable=True, attempts=[]
    )
    assert isinstance(timeout, ProviderTimeout)
    assert timeout.message.startswith("timeout (ReadTimeout: timed out). Fix: raise the timeout")
    named = error_for_transport(
        provider="p",
        exc=httpx.ConnectTimeout("timed out"),
        retryable=True,
        attempts=[],
        limits={"connect": 5.0, "read": 30.0},
    )
    assert named.message.startswith(
        "timeout (ConnectTimeout: no connection within the connect timeout of 5 s)"
    )
    assert "connect_timeout=" in named.message
    refused = error_for_transport(
        provider="p", exc=httpx.ConnectError("refused"), retryable=True, attempts=[]
    )
    assert isinstance(refused, ProviderConnectionError) and refused.status is None
    odd = error_for_transport(
        provider="p", exc=httpx.UnsupportedProtocol("ftp"), retryable=False, attempts=[]
    )
    assert type(odd) is ProviderError and not odd.retryable


def test_request_id_headers() -> None:
    assert request_id_from({"request-id": "req_a"}) == "req_a"
    assert request_id_from({"mistral-correlation-id": "m-1"}) == "m-1"
    assert request_id_from({}) is None


CLOUDFLARE_502 = (
    "<!DOCTYPE html>\n<!--[if lt IE 7]> <html class='no-js ie6'> <![endif]-->\n"
    "<html><head><title>api.example.com | 502: Bad gateway</title>"
    "<style>" + "body{margin:0}" * 400 + "</style></head>"
    "<body><h1>Bad gateway</h1><p>The web server reported a bad gateway error.</p>"
    "<p>Ray ID: 8a1b2c3d4e5f</p></body></html>"
)


def test_an_html_error_page_is_summed_up_by_status_and_title(server: FaultServer) -> None:
    server.default = respond(502, CLOUDFLARE_502, {"content-type": "text/html"})
    lm = resolve_lm("openai/gpt-4o-mini", base_url=server.url, api_key="sk-x", max_retries=1)
    lm.retry = lm.retry.replace(initial_delay=0.001)
    with pytest.raises(ProviderError) as info:
        lm.generate(LMRequest((Message("user", "hi"),)))
    text = str(info.value)
    assert "HTTP 502" in text and "'api.example.com | 502: Bad gateway'" in text
    assert "<" not in text and len(text) < 300
    assert info.value.body == CLOUDFLARE_502  # the whole page is kept


@pytest.mark.parametrize(
    ("body", "title"),
    [
        (
            "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
            "503 Service Temporarily Unavailable",
        ),
        (
            "<HTML><HEAD><TITLE>Access&nbsp;Denied &amp; more</TITLE></HEAD></HTML>",
            "Access Denied & more",
        ),
        ("  <html>upstream connect error</html>", "upstream connect error"),
        ("<title>" + "x" * 500 + "</title>", None),  # not a page: no <html>/<!doctype> start
        ('{"error": "<html> inside JSON"}', None),
    ],
)
def test_html_page_titles(body: str, title: str | None) -> None:
    found = html_page_title(body)
    assert found == title


def test_a_long_html_title_is_cut() -> None:
    title = html_page_title("<!doctype html><title>" + "word " * 100 + "</title>")
    assert title is not None and len(title) <= 80 and title.endswith("...")
