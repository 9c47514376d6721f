"""The clients lmbench makes for itself build requests directly; what they send must be what
httpx's general ``build_request`` would send, and cookies a server sets still go back."""

from __future__ import annotations

import httpx
from provider_faults import FaultServer, chat_body, respond

from lmbench import resolve_lm
from lmbench.lm.types import LMRequest, Message
from lmbench.providers.clients import OwnAsyncClient, OwnClient

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
