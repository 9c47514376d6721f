"""The clients lmbench makes for itself build requests directly; what they send must be what
httpx's general ``build_request`` would send, and cookies a server sets still go back. Async
calls spread over small pools when many are in flight at once."""

from __future__ import annotations

import asyncio
import http.cookiejar

import httpx
import pytest
from provider_faults import FaultServer, chat_body, respond, slow

from lmbench import resolve_lm
from lmbench.lm.types import LMRequest, Message
from lmbench.providers.clients import AsyncClients, OwnAsyncClient, OwnClient

REQUEST = LMRequest(messages=(Message("user", "hi"),))
HEADERS = {"Accept": "application/json", "content-type": "application/json", "X-Trace": "t-1"}


def _sent(request: httpx.Request) -> list[tuple[str, str]]:
    return sorted((name.lower(), value) for name, value in request.headers.multi_items())


def test_a_request_built_directly_carries_what_httpx_would_send() -> None:
    url = httpx.URL("http://127.0.0.1:9/v1/chat/completions")
    for own, general in ((OwnClient(), httpx.Client()), (OwnAsyncClient(), httpx.AsyncClient())):
        direct = own.build_request("POST", url, content=b"{}", headers=HEADERS)
        merged = general.build_request("POST", url, content=b"{}", headers=HEADERS)
        assert _sent(direct) == _sent(merged)
        assert direct.extensions["timeout"] == merged.extensions["timeout"]
        assert (direct.method, direct.url, direct.content) == ("POST", url, b"{}")
        # the name is sent as given; the default of the same name in another case is replaced
        assert (b"X-Trace", b"t-1") in direct.headers.raw
        assert [v for k, v in direct.headers.items() if k == "accept"] == ["application/json"]


def test_other_arguments_and_cookies_take_the_general_way() -> None:
    url = "http://127.0.0.1:9/v1/x"
    client = OwnClient()
    assert client.build_request("POST", url, params={"a": "1"}).url.params["a"] == "1"
    client.cookies.set("session", "s-1", domain="127.0.0.1")
    assert client.build_request("POST", url, content=b"{}").headers["cookie"] == "session=s-1"


def test_a_cookie_the_server_sets_is_sent_back(server: FaultServer) -> None:
    server.script(respond(200, chat_body(), headers={"set-cookie": "lb=node-2; Path=/"}))
    server.default = respond(200, chat_body())
    lm = resolve_lm("groq/m", base_url=f"{server.url}/v1")
    lm.generate(REQUEST)
    lm.generate(REQUEST)
    assert "cookie" not in {k.lower() for k in server.received[0].headers}
    assert server.received[1].headers.get("Cookie") == "lb=node-2"
    assert {k.lower(): v for k, v in server.received[1].headers.items()}[
        "accept"
    ] == "application/json"


async def test_one_call_at_a_time_uses_one_client_and_one_connection(server: FaultServer) -> None:
    server.default = respond(200, chat_body())
    lm = resolve_lm("groq/m", base_url=f"{server.url}/v1")
    for _ in range(5):
        await lm.agenerate(REQUEST)
    clients = lm._async_clients[asyncio.get_running_loop()].clients
    await lm.aclose()
    assert len(clients) == 1 and all(client.is_closed for client in clients)
    assert len({received.peer for received in server.received}) == 1


async def test_many_calls_at_once_spread_over_small_pools(server: FaultServer) -> None:
    """No pool holds many more than ``BUSY`` connections (httpcore scans all of a pool's
    connections at every request), and every client is closed with the LM."""
    server.default = slow(0.1, respond(200, chat_body()))
    lm = resolve_lm("groq/m", base_url=f"{server.url}/v1")
    in_flight: list[int] = []
    for _ in range(2):
        await asyncio.gather(*(lm.agenerate(REQUEST) for _ in range(3 * AsyncClients.BUSY)))
        clients = lm._async_clients[asyncio.get_running_loop()].clients
        in_flight.append(sum(client.in_flight for client in clients))
    await lm.aclose()
    assert len(clients) == 3 and in_flight == [0, 0]
    assert all(client.is_closed for client in clients)
    # the second round reused the first round's connections
    assert len({received.peer for received in server.received}) == 3 * AsyncClients.BUSY


def test_only_responses_that_set_cookies_reach_the_cookie_jar(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[int] = []
    extract = http.cookiejar.CookieJar.extract_cookies
    monkeypatch.setattr(
        http.cookiejar.CookieJar,
        "extract_cookies",
        lambda jar, response, request: read.append(1) or extract(jar, response, request),
    )
    server.script(
        respond(200, chat_body()), respond(200, chat_body(), headers={"set-cookie": "a=1"})
    )
    server.default = respond(200, chat_body())
    lm = resolve_lm("groq/m", base_url=f"{server.url}/v1")
    for _ in range(3):
        lm.generate(REQUEST)
    assert read == [1]
    assert server.received[2].headers.get("Cookie") == "a=1"
