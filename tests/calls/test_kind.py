"""A second kind of model call plugs into the call layer and gets its whole policy for free:
cache, history, budget, replay and callbacks, sync and async, with no code of its own."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import pytest

from lmbench.calls import Callback, CallbackEvent, CallKind, ModelCall, budget, module_call
from lmbench.errors import BudgetExceeded, ReplayMissError
from lmbench.lm.cache import ResponseCache
from lmbench.lm.cache_key import key_of
from lmbench.lm.replay import replay
from lmbench.lm.stored import stored_response
from lmbench.lm.types import Usage
from lmbench.observe import MemoryCollector, load_history, set_price
from lmbench.settings import context


@dataclass(frozen=True)
class ShoutRequest:
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text}


@dataclass
class ShoutResponse:
    text: str
    tokens: int
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "tokens": self.tokens, "metadata": self.metadata}


class ShoutCodec:
    def encode(self, response: ShoutResponse) -> dict[str, Any]:
        return stored_response(response.to_dict())

    def decode(self, data: dict[str, Any]) -> ShoutResponse:
        return ShoutResponse(data["text"], data["tokens"], dict(data["metadata"]))

    def copy(self, response: ShoutResponse) -> ShoutResponse:
        return ShoutResponse(response.text, response.tokens, dict(response.metadata))


class Shouter:
    """A toy client: answers in capitals, one token a character, counting what it is sent."""

    provider, model = "toy", "shouter"
    name = "toy/shouter"

    def __init__(self) -> None:
        self.sent: list[str] = []

    def shout(self, text: str) -> ShoutResponse:
        self.sent.append(text)
        return ShoutResponse(text.upper(), len(text), {"api_key": "sk-never-stored-0123456789"})


class ShoutKind(CallKind[Shouter, ShoutRequest, ShoutResponse]):
    entry_kind: ClassVar[str] = "shout"
    event: ClassVar[str] = "shout"
    client_name: ClassVar[str] = "shouter"
    codec: ClassVar[ShoutCodec] = ShoutCodec()

    def send(self, client: Shouter, request: ShoutRequest) -> ShoutResponse:
        return client.shout(request.text)

    async def asend(self, client: Shouter, request: ShoutRequest) -> ShoutResponse:
        return client.shout(request.text)

    def key(self, client: Shouter, request: ShoutRequest, rollout_id: Any) -> str:
        return key_of({"kind": "shout", "client": client.name, "text": request.text})

    def usage(self, response: ShoutResponse) -> Usage:
        return Usage(input_tokens=response.tokens)

    def estimate(self, client: Shouter, request: ShoutRequest, *, priced: bool = False) -> Usage:
        return Usage(input_tokens=len(request.text))

    def preview(self, request: ShoutRequest) -> str:
        return request.text[:20]

    def entry_fields(self, call: ModelCall[Shouter, ShoutRequest, ShoutResponse]) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "provider": call.client.provider,
            "model": call.client.model,
            "request": call.request,
            "response": call.response,
        }
        if call.response is not None:
            fields["usage"] = call.usage
        return fields


SHOUT = ShoutKind()


def _shout(client: Shouter, text: str, **options: Any) -> ModelCall[Any, Any, Any]:
    with ModelCall(SHOUT, client, ShoutRequest(text), **options) as call:
        call.run()
    return call


@pytest.fixture(autouse=True)
def _priced() -> None:
    set_price("toy/shouter", input=1_000.0, output=0.0)  # $0.001 a character


def test_the_cache_serves_a_repeated_request_from_memory_then_disk(
    response_cache: ResponseCache,
) -> None:
    client = Shouter()
    first, second = _shout(client, "hello"), _shout(client, "hello")
    assert client.sent == ["hello"]
    assert (first.cache_state, second.cache_state) == ("miss", "memory")
    assert second.response is not None and second.response.text == "HELLO"
    assert second.price is not None and second.price.usd == 0.0
    assert second.saved_usd == pytest.approx(0.005)
    response_cache._memory.clear()
    assert _shout(client, "hello").cache_state == "disk" and client.sent == ["hello"]
    stored = response_cache._disk_cache().get(first.cache_key)
    assert "sk-never-stored" not in stored  # the stored response is redacted like an LM's


def test_history_keeps_an_entry_of_the_kind_with_cost_and_tree(
    collector: MemoryCollector, tmp_path: Path
) -> None:
    with module_call("Shouting") as node:
        _shout(Shouter(), "abc", cache=False)
    lm_entry = collector.entries()[0]
    assert (lm_entry.kind, lm_entry.model, lm_entry.cost_usd) == ("shout", "shouter", 0.003)
    assert lm_entry.parent_id == node.call_id and node.cost == pytest.approx(0.003)
    assert node.to_dict()["children"][0]["kind"] == "shout"
    saved = tmp_path / "history.jsonl"
    saved.write_text("".join(json.dumps(e.to_dict()) + "\n" for e in collector.entries()))
    reloaded = load_history(saved).filter(kind="all")
    assert reloaded[0].response["text"] == "ABC"  # kept as data when read back
    assert "sk-never-stored" not in saved.read_text()


def test_budgets_reserve_and_refuse_before_sending() -> None:
    client = Shouter()
    with budget(usd=0.0045) as limit:
        _shout(client, "abc", cache=False)
        with pytest.raises(BudgetExceeded, match="the call was not made"):
            _shout(client, "defg", cache=False)
    assert client.sent == ["abc"]
    assert limit.spent_usd == pytest.approx(0.003) and limit.reserved_usd == 0.0


def test_replay_records_then_plays_back_without_the_client(tmp_path: Path) -> None:
    path = tmp_path / "shouts.jsonl"
    with replay.record(path):
        _shout(Shouter(), "recorded", cache=False)
    silent = Shouter()
    with replay.play(path):
        played = _shout(silent, "recorded")
        with pytest.raises(ReplayMissError, match="toy/shouter: 'never said'"):
            _shout(silent, "never said")
    assert silent.sent == [] and played.cache_state == "replay"
    assert played.response is not None and played.response.text == "RECORDED"
    assert played.price is not None and played.price.usd == pytest.approx(0.008)


async def test_callbacks_hear_the_kind_s_own_events_sync_and_async() -> None:
    heard: list[tuple[str, Any]] = []

    class Listener(Callback):
        def on_shout_start(self, event: CallbackEvent) -> None:
            heard.append(("start", event.shouter.name))

        def on_shout_end(self, event: CallbackEvent) -> None:
            heard.append(("end", event.response.text))

    with context(callbacks=[Listener()]):
        _shout(Shouter(), "one", cache=False)
        with ModelCall(SHOUT, Shouter(), ShoutRequest("two"), cache=False) as call:
            await call.arun()
    assert heard == [
        ("start", "toy/shouter"),
        ("end", "ONE"),
        ("start", "toy/shouter"),
        ("end", "TWO"),
    ]
