"""The seam: what one LM call and one module call record, exactly."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest

from lmbench.calls import budget, current_module_call, lm_call, module_call
from lmbench.errors import AdapterParseError, BudgetExceeded, ProviderError
from lmbench.lm import Attempt, BaseLM, LMRequest, LMResponse, Message, ScriptedLM, Usage
from lmbench.lm.replay import replay
from lmbench.observe import MemoryCollector
from lmbench.observe import entry as entry_module
from lmbench.settings import context


def _request(text: str = "What is 2+2?", **params: object) -> LMRequest:
    return LMRequest(
        messages=(Message("system", "Answer briefly."), Message("user", text)), **params
    )  # type: ignore[arg-type]


def test_an_lm_call_records_every_field(collector: MemoryCollector) -> None:
    lm = ScriptedLM(["4"])
    request = _request(max_tokens=20)
    before = time.time()
    with (
        module_call("Predict", signature="question -> answer") as mc,
        lm_call(lm, request, adapter="ChatAdapter") as call,
    ):
        response = call.run()
        call.set_parse(adapter="ChatAdapter", diagnostics=[{"message": "added missing marker"}])
    lm_entry, module_entry = collector.entries()

    assert response.text == "4"
    assert lm_entry.kind == "lm"
    assert lm_entry.call_id == call.call_id
    assert lm_entry.parent_id == mc.call_id
    assert lm_entry.root_id == mc.call_id
    assert lm_entry.session_id == entry_module.SESSION_ID
    assert before <= lm_entry.timestamp <= time.time()
    assert lm_entry.module == "Predict"
    assert lm_entry.signature == "question -> answer"
    assert (lm_entry.provider, lm_entry.model, lm_entry.response_model) == (
        "scripted",
        "test",
        "test",
    )
    assert lm_entry.request is request
    assert lm_entry.response is response
    assert lm_entry.text == "4"
    assert lm_entry.finish_reason == "stop"
    # ScriptedLM counts about four characters a token: "Answer briefly." (15) + "What is 2+2?" (12)
    assert lm_entry.usage == Usage(input_tokens=3 + 3, output_tokens=1)
    assert (lm_entry.cost_usd, lm_entry.cost_known, lm_entry.saved_usd) == (0.0, True, None)
    assert lm_entry.latency_s > 0
    assert lm_entry.ttft_s is None and lm_entry.stream is False
    assert (lm_entry.cache, lm_entry.cache_key) == ("off", None)  # scripted LMs are not cached
    assert lm_entry.attempts == []
    assert lm_entry.adapter == "ChatAdapter"
    assert lm_entry.diagnostics == [{"message": "added missing marker"}]
    assert lm_entry.fallback_from is None
    assert lm_entry.error is None and lm_entry.raw is None

    assert module_entry.kind == "module"
    assert module_entry.call_id == mc.call_id
    assert module_entry.parent_id is None
    assert module_entry.usage == lm_entry.usage
    assert module_entry.cost_usd == 0.0
    assert module_entry.latency_s == mc.duration_s
    assert mc.entries == [lm_entry]
    assert mc.entry is module_entry


def test_nested_modules_make_one_tree(collector: MemoryCollector) -> None:
    lm = ScriptedLM(["a", "b", "c"])
    with module_call("ChainOfThought") as outer:
        with module_call("Predict") as inner:
            assert current_module_call() is inner
            for text in ("one", "two"):
                with lm_call(lm, _request(text)) as call:
                    call.run()
        with lm_call(lm, _request("three")) as call:
            call.run()
    assert current_module_call() is None
    entries = {e.call_id: e for e in collector.entries()}
    assert {e.root_id for e in entries.values()} == {outer.call_id}
    assert entries[inner.call_id].parent_id == outer.call_id
    assert [c.call_id for c in outer.lm_calls()] == [e.call_id for e in outer.entries]
    assert len(outer.entries) == 3
    assert outer.usage == sum((e.usage for e in outer.entries), Usage())
    assert inner.usage == sum((e.usage for e in inner.entries), Usage())


def test_a_failed_call_is_recorded_with_its_error_and_attempts(collector: MemoryCollector) -> None:
    attempts = [
        Attempt(1, 503, "Service Unavailable", 0.5, "retryable status"),
        Attempt(2, 503, "Service Unavailable", 0.0, "gave up"),
    ]

    class Failing(BaseLM):
        provider, model = "openai", "gpt-4o-mini"

        def generate(self, request: LMRequest) -> LMResponse:
            raise ProviderError("overloaded", provider="openai", status=503, attempts=attempts)

    with (
        pytest.raises(ProviderError),
        module_call("Predict") as mc,
        lm_call(Failing(), _request()) as call,
    ):
        call.run()
    lm_entry, module_entry = collector.entries()
    assert lm_entry.error == "ProviderError: openai HTTP 503: overloaded"
    assert lm_entry.response is None
    assert lm_entry.attempts == attempts
    assert lm_entry.usage == Usage()
    assert lm_entry.cost_usd == 0.0
    assert module_entry.error == lm_entry.error
    assert mc.error == lm_entry.error


def test_a_parse_failure_and_a_fallback_are_recorded(collector: MemoryCollector) -> None:
    lm = ScriptedLM(["not the format", '{"answer": "4"}'])
    with module_call("Predict"):
        with (
            pytest.raises(AdapterParseError),
            lm_call(lm, _request(), adapter="ChatAdapter") as first,
        ):
            first.run()
            error = AdapterParseError(
                "no field markers", adapter="ChatAdapter", raw="not the format"
            )
            first.set_parse(adapter="ChatAdapter", diagnostics=[], error=error)
            raise error
        with lm_call(lm, _request(), adapter="JSONAdapter") as second:
            second.run()
            second.set_parse(adapter="JSONAdapter", diagnostics=[], fallback_from="ChatAdapter")
    chat, json_entry, _module = collector.entries()
    assert chat.error is not None and chat.error.startswith(
        "AdapterParseError: ChatAdapter could not parse"
    )
    assert chat.text == "not the format"
    assert (json_entry.adapter, json_entry.fallback_from, json_entry.error) == (
        "JSONAdapter",
        "ChatAdapter",
        None,
    )


def test_streaming_records_time_to_first_token(collector: MemoryCollector) -> None:
    lm = ScriptedLM(["a streamed answer of some length"], chunk_size=4)
    with lm_call(lm, _request()) as call:
        chunks = list(call.stream())
    assert "".join(c.text for c in chunks) == "a streamed answer of some length"
    assert chunks[-1].response is call.response
    (entry,) = collector.entries()
    assert entry.stream is True
    assert entry.ttft_s is not None and 0 < entry.ttft_s <= entry.latency_s
    assert entry.text == "a streamed answer of some length"


def test_async_calls_are_recorded(collector: MemoryCollector) -> None:
    lm = ScriptedLM(["x", "y"])

    async def main() -> list[str]:
        with module_call("Async"):
            with lm_call(lm, _request()) as call:
                first = await call.arun()
            with lm_call(lm, _request()) as call:
                texts = [chunk.text async for chunk in call.astream()]
        return [first.text, "".join(texts)]

    assert asyncio.run(main()) == ["x", "y"]
    assert [e.text for e in collector.entries() if e.kind == "lm"] == ["x", "y"]
    assert [e.stream for e in collector.entries() if e.kind == "lm"] == [False, True]


def test_raw_response_is_kept_only_with_save_raw(collector: MemoryCollector) -> None:
    class Raw(BaseLM):
        free = True
        cacheable = False

        def generate(self, request: LMRequest) -> LMResponse:
            return LMResponse(texts=["ok"], raw={"id": "resp-1", "choices": []})

    with lm_call(Raw(), _request()) as call:
        call.run()
    with context(save_raw=True), lm_call(Raw(), _request()) as call:
        call.run()
    without, with_raw = collector.entries()
    assert without.raw is None
    assert with_raw.raw == {"id": "resp-1", "choices": []}
    assert with_raw.to_dict()["raw"] == {"id": "resp-1", "choices": []}


def test_parse_repairs_are_logged_at_info_with_debug_parse(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lm = ScriptedLM(["x", "y"])
    with caplog.at_level(logging.DEBUG, logger="lmbench"):
        with lm_call(lm, _request()) as call:
            call.run()
            call.set_parse(adapter="ChatAdapter", diagnostics=[{"message": "stripped a fence"}])
        with context(debug_parse=True), lm_call(lm, _request()) as call:
            call.run()
            call.set_parse(adapter="ChatAdapter", diagnostics=[{"message": "closed a quote"}])
    records = [
        (r.levelno, r.getMessage()) for r in caplog.records if "parse repair" in r.getMessage()
    ]
    assert records == [
        (logging.DEBUG, "ChatAdapter parse repair: {'message': 'stripped a fence'}"),
        (logging.INFO, "ChatAdapter parse repair: {'message': 'closed a quote'}"),
    ]


def test_a_failing_collector_never_breaks_the_call() -> None:
    class Broken(MemoryCollector):
        def add(self, entry: object) -> None:  # type: ignore[override]
            raise OSError("disk full")

    lm = ScriptedLM(["fine"])
    with (
        context(history=Broken()),
        pytest.warns(RuntimeWarning, match="was not recorded: OSError: disk full"),
        lm_call(lm, _request()) as call,
    ):
        assert call.run().text == "fine"


def test_entries_serialise_lazily_and_round_trip(collector: MemoryCollector) -> None:
    lm = ScriptedLM(["4"])
    with module_call("Predict"), lm_call(lm, _request(temperature=0.0, stop=("\n",))) as call:
        call.run()
        call.set_parse(adapter="ChatAdapter", diagnostics=[{"message": "m", "field": "answer"}])
    entry = collector.entries()[0]
    data = entry.to_dict()
    assert json.loads(json.dumps(data)) == data
    again = entry_module.HistoryEntry.from_dict(data)
    assert again.to_dict() == data
    assert again.request == entry.request
    assert again.response is not None and again.response.to_dict() == entry.response.to_dict()  # type: ignore[union-attr]


class _PricedLM(BaseLM):
    """A paid model: 100 tokens in, 10 out on gpt-4o-mini ($0.15 / $0.60 per million)."""

    provider, model = "openai", "gpt-4o-mini"

    def generate(self, request: LMRequest) -> LMResponse:
        return LMResponse(texts=["Paris"], model="gpt-4o-mini", usage=Usage(100, 10))


PRICED_USD = (100 * 0.15 + 10 * 0.60) / 1_000_000


def _record_one_call(folder: Path) -> Path:
    """A recording of one live call to ``_PricedLM``, for the replay tests."""
    path = folder / "calls.jsonl"
    with replay.record(path), lm_call(_PricedLM(), _request(), cache=False) as call:
        call.run()
    return path


def test_a_replayed_call_reports_the_recorded_usage_and_cost(
    tmp_path: Path, collector: MemoryCollector
) -> None:
    path = _record_one_call(tmp_path)
    with (
        replay.play(path),
        budget(usd=1.0) as limit,
        module_call("Predict") as node,
        lm_call(_PricedLM(), _request()) as call,
    ):
        assert call.run().text == "Paris"
    recorded, played = [e for e in collector.entries() if e.kind == "lm"]
    assert recorded.cost_usd == pytest.approx(PRICED_USD)
    assert (played.cache, played.cache_key, played.saved_usd) == ("replay", None, None)
    assert played.usage.to_dict() == Usage(100, 10).to_dict()
    assert played.cost_usd == pytest.approx(PRICED_USD) and played.cost_known
    assert node.usage.to_dict() == Usage(100, 10).to_dict()
    assert node.cost == pytest.approx(PRICED_USD)
    assert (limit.calls, limit.spent_tokens) == (1, 110)
    assert limit.spent_usd == pytest.approx(PRICED_USD)


def test_a_replayed_call_is_held_to_budgets_like_a_live_one(
    tmp_path: Path, collector: MemoryCollector
) -> None:
    path = _record_one_call(tmp_path)
    with (
        replay.play(path),
        budget(tokens=50),
        lm_call(_PricedLM(), _request()) as call,
        pytest.raises(BudgetExceeded, match="spent 110 tokens of the 50 tokens limit"),
    ):
        call.run()
    played = collector.entries()[-1]
    assert (played.cache, played.usage.total_tokens) == ("replay", 110)
    with (
        replay.play(path),
        budget(tokens=1),
        lm_call(_PricedLM(), _request()) as call,
        pytest.raises(BudgetExceeded, match="the call was not made"),
    ):
        call.run()
    assert call.response is None
