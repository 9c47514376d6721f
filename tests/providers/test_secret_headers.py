"""Keys sent in extra headers (AI gateways, proxies, or any header given as a ``Secret``) are
redacted everywhere the provider key is: exception text, raw history in JSONL and SQLite,
cache files, logs. The server echoes every header back, in an error body and in a success."""

from __future__ import annotations

import json
from typing import Any

import pytest
from provider_faults import FaultServer, chat_body, respond

import lmbench
from lmbench.errors import ProviderError
from lmbench.secrets import Secret, is_secret_header, redact_headers

from .conftest import Records

GATEWAY_HEADERS: dict[str, Any] = {
    "cf-aig-authorization": "Bearer cfgw-0123456789-secret",
    "x-portkey-api-key": "pk-portkey-abcdefghij",
    "Helicone-Auth": "Bearer sk-helicone-zyxwvutsrq",
    "x-auth-token": "tok_9876543210_auth",
    "x-tenant": Secret("tenant-marked-secret-42"),
}
VALUES = [
    "cfgw-0123456789-secret",
    "pk-portkey-abcdefghij",
    "sk-helicone-zyxwvutsrq",
    "tok_9876543210_auth",
    "tenant-marked-secret-42",
]
ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"


def _echo(status: int):  # type: ignore[no-untyped-def]
    """Answer with every received header quoted in the body and in a response header."""

    def step(handler) -> None:  # type: ignore[no-untyped-def]
        echoed = "; ".join(f"{k}={v}" for k, v in handler.headers.items())
        if status == 200:
            body = chat_body(ANSWER)
            body["echo"] = echoed
        else:
            body = {"error": {"message": f"gateway refused: {echoed}"}}
        respond(status, body, {"x-echo": echoed[:400]})(handler)

    return step


@pytest.mark.parametrize(
    "name",
    ["cf-aig-authorization", "x-portkey-api-key", "Helicone-Auth", "x-auth-token", "X-API-KEY"],
)
def test_gateway_key_headers_are_secret(name: str) -> None:
    assert is_secret_header(name)
    assert redact_headers({name: "v"}) == {name: "[redacted]"}


@pytest.mark.parametrize(
    "name", ["x-ratelimit-remaining-tokens", "content-type", "anthropic-version", "x-title"]
)
def test_ordinary_headers_are_not(name: str) -> None:
    assert not is_secret_header(name)


def test_extra_header_keys_appear_nowhere(server: FaultServer, every_record: Records) -> None:
    memory, history, tmp_path, caplog = every_record
    lm = lmbench.resolve_lm(
        "openai/gpt-4o-mini",
        api_key="sk-main-key-000000000000000000",
        base_url=server.url,
        headers=GATEWAY_HEADERS,
    )
    qa = lmbench.Predict("question -> answer", lm=lm, adapter="chat")
    server.script(_echo(200), _echo(401))
    seen: list[str] = []
    with lmbench.context(history=history, save_raw=True, cache=True):
        first = qa(question="capital of France?")
        with pytest.raises(ProviderError) as failure:
            qa(question="capital of Spain?")
    history.close()
    seen += [str(failure.value), repr(failure.value), failure.value.body or "", repr(lm)]
    seen += [json.dumps(e.to_dict(), default=str) for e in memory.entries()]
    seen += [json.dumps(first.trace, default=str), first._repr_html_()]
    seen += [r.getMessage() for r in caplog.records]
    seen += [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    assert first.answer == "Paris" and failure.value.status == 401
    received = server.received[0].headers
    assert received["cf-aig-authorization"] == "Bearer cfgw-0123456789-secret"
    assert received["x-tenant"] == "tenant-marked-secret-42"  # sent as given
    raw = memory.entries()[0].to_dict()["raw"]
    assert raw["request"]["headers"]["x-tenant"] == "[redacted]"
    assert raw["request"]["headers"]["x-portkey-api-key"] == "[redacted]"
    leaks = [(value, text[:120]) for value in VALUES for text in seen if value in text]
    assert leaks == []
