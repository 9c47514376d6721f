"""Request and response bodies: orjson where it can, the standard library where it cannot."""

from __future__ import annotations

import json

import httpx
from provider_faults import FaultServer, chat_body, respond

from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import LMRequest, Message
from lmbench.providers.json_codec import json_body, json_of


def test_bodies_are_compact_utf8_json() -> None:
    body = {"messages": [{"role": "user", "content": "héllo → 世界"}], "n": 1, "t": 0.5}
    written = json_body(body)
    assert written == json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def test_what_orjson_refuses_is_still_valid_json() -> None:
    body = {"content": "half a pair \ud83d here", "big": 2**70, 3: "int key"}
    written = json_body(body)
    assert json.loads(written) == {
        "content": "half a pair \ud83d here",
        "big": 2**70,
        "3": "int key",
    }


def test_a_lone_surrogate_in_a_prompt_reaches_the_server(server: FaultServer) -> None:
    server.default = respond(200, chat_body("ok"))
    lm = resolve_lm("openai-compatible/m", base_url=server.url)
    response = lm.generate(LMRequest((Message("user", "broken \udc80 text"),)))
    assert response.text == "ok"
    assert server.received[0].body["messages"][0]["content"] == "broken \udc80 text"


def test_responses_orjson_cannot_read_fall_back_to_httpx() -> None:
    with_bom = httpx.Response(200, content=b"\xef\xbb\xbf" + json.dumps({"a": 1}).encode())
    assert json_of(with_bom) == {"a": 1}
    utf16 = httpx.Response(200, content=json.dumps({"b": "é"}).encode("utf-16"))
    assert json_of(utf16) == {"b": "é"}
