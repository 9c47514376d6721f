"""Record and replay of LM responses through the call seam: no key, no network, no silent live call."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmbench.calls import lm_call
from lmbench.errors import ConfigError, ReplayMissError
from lmbench.lm import BaseLM, LMRequest, LMResponse, Message, ScriptedLM, Usage
from lmbench.lm.cache import reset_cache
from lmbench.lm.replay import replay
from lmbench.observe import CallHistory as History
from lmbench.observe import MemoryCollector
from lmbench.settings import configure

SECRET = "sk-test-0123456789abcdef0123456789"
#: What PaidLM's 12 input and 3 output tokens cost on gpt-4o-mini ($0.15 / $0.60 per million).
PAID_USD = (12 * 0.15 + 3 * 0.60) / 1_000_000


class UnreachableLM(BaseLM):
    """A model that fails the test if it is ever called: stands for a live provider."""

    provider = "openai"
    model = "gpt-4o-mini"

    def generate(self, request: LMRequest) -> LMResponse:
        raise AssertionError("a live call was made in play mode")


class PaidLM(BaseLM):
    """Answers like a remote model would, with usage and provider metadata."""

    provider = "openai"
    model = "gpt-4o-mini"

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.calls = 0

    def generate(self, request: LMRequest) -> LMResponse:
        self.calls += 1
        return LMResponse(
            texts=[self.answer],
            model="gpt-4o-mini-2024-07-18",
            provider="openai",
            usage=Usage(12, 3),
            finish_reason="stop",
            metadata={"api_key": SECRET, "system_fingerprint": "fp_1"},
            raw={"headers": {"authorization": f"Bearer {SECRET}"}},
        )


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path) -> Iterator[MemoryCollector]:
    cache = reset_cache(tmp_path / "cache")
    memory = MemoryCollector()
    configure(history=memory)
    yield memory
    replay.off()
    cache.close()


def _request(text: str, **params: object) -> LMRequest:
    return LMRequest(messages=(Message("system", "Be brief."), Message("user", text)), **params)  # type: ignore[arg-type]


def _run(lm: BaseLM, request: LMRequest) -> LMResponse:
    with lm_call(lm, request, cache=False) as call:
        return call.run()


def test_record_then_play_serves_the_same_response_without_calling_the_model(
    tmp_path: Path, _isolated: MemoryCollector
) -> None:
    path = tmp_path / "calls.jsonl"
    paid = PaidLM("Paris")
    with replay.record(path):
        recorded = _run(paid, _request("Capital of France?", extra={"api_key": SECRET}))
    assert paid.calls == 1 and replay.mode == "off"

    with replay.play(path):
        played = _run(UnreachableLM(), _request("Capital of France?", extra={"api_key": SECRET}))
    assert played.texts == recorded.texts == ["Paris"]
    assert played.usage.to_dict() == recorded.usage.to_dict()
    assert played.model == "gpt-4o-mini-2024-07-18"
    assert played.metadata["replayed_from"] == str(path)
    live, replayed = _isolated.entries()
    assert (live.cache, replayed.cache) == ("off", "replay")
    assert replayed.usage.to_dict() == live.usage.to_dict() == Usage(12, 3).to_dict()
    assert replayed.cost_usd == live.cost_usd == pytest.approx(PAID_USD)
    report = History(_isolated).cost()
    assert (report.calls, report.cache_hits, report.usage.total_tokens) == (2, 0, 30)
    assert report.total_usd == pytest.approx(2 * PAID_USD)
    assert report.saved_usd == 0.0


def test_a_recording_holds_no_key_and_no_raw_provider_data(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    with replay.record(path):
        _run(PaidLM("Paris"), _request("Capital of France?", extra={"api_key": SECRET}))
    text = path.read_text()
    assert SECRET not in text
    (item,) = [json.loads(line) for line in text.splitlines()]
    assert item["model"] == "openai/gpt-4o-mini"
    assert item["prompt"] == "Capital of France?"
    assert "raw" not in item["response"]
    assert item["response"]["metadata"]["system_fingerprint"] == "fp_1"


def test_play_miss_raises_naming_the_model_and_the_request(
    tmp_path: Path, _isolated: MemoryCollector
) -> None:
    path = tmp_path / "calls.jsonl"
    with replay.record(path):
        _run(PaidLM("Paris"), _request("Capital of France?"))
    replay.play(path)
    with pytest.raises(ReplayMissError) as caught:
        _run(
            UnreachableLM(),
            _request("Capital of Italy? Answer with one word only, and nothing else at all"),
        )
    message = str(caught.value)
    assert "openai/gpt-4o-mini" in message
    assert "'Capital of Italy? Answer with one word only, and nothing else at all'" not in message
    assert "Capital of Italy? Answer with one word only, and nothing else at ..." in message
    assert str(path) in message
    assert _isolated.entries()[-1].error.startswith("ReplayMissError")


def test_changed_parameters_miss(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    with replay.record(path):
        _run(PaidLM("Paris"), _request("Capital of France?", temperature=0.0))
    with replay.play(path), pytest.raises(ReplayMissError):
        _run(UnreachableLM(), _request("Capital of France?", temperature=0.7))


def test_play_streams_the_recorded_text(tmp_path: Path, _isolated: MemoryCollector) -> None:
    path = tmp_path / "calls.jsonl"
    answer = "The capital of France is Paris, on the Seine."
    with replay.record(path):
        _run(PaidLM(answer), _request("Capital of France?"))
    with replay.play(path), lm_call(UnreachableLM(), _request("Capital of France?")) as call:
        chunks = list(call.stream())
    assert "".join(c.text for c in chunks) == answer
    assert len(chunks) > 2
    assert chunks[-1].response is not None and chunks[-1].response.text == answer
    streamed = _isolated.entries()[-1]
    assert (streamed.cache, streamed.stream, streamed.usage.total_tokens) == ("replay", True, 15)
    assert streamed.cost_usd == pytest.approx(PAID_USD)


async def test_play_serves_async_calls(tmp_path: Path, _isolated: MemoryCollector) -> None:
    path = tmp_path / "calls.jsonl"
    with replay.record(path):
        _run(PaidLM("Paris"), _request("Capital of France?"))
    with replay.play(path), lm_call(UnreachableLM(), _request("Capital of France?")) as call:
        response = await call.arun()
    assert response.text == "Paris"
    assert _isolated.entries()[-1].cost_usd == pytest.approx(PAID_USD)


async def test_play_serves_async_streams_priced(tmp_path: Path, _isolated: MemoryCollector) -> None:
    path = tmp_path / "calls.jsonl"
    with replay.record(path):
        _run(PaidLM("Paris"), _request("Capital of France?"))
    with replay.play(path), lm_call(UnreachableLM(), _request("Capital of France?")) as call:
        texts = [chunk.text async for chunk in call.astream()]
    assert "".join(texts) == "Paris"
    entry = _isolated.entries()[-1]
    assert (entry.cache, entry.usage.total_tokens) == ("replay", 15)
    assert entry.cost_usd == pytest.approx(PAID_USD)


def test_record_keeps_cache_hits_so_a_cold_replay_has_them(tmp_path: Path) -> None:
    lm = ScriptedLM(["4"])
    request = _request("2+2?")
    with lm_call(lm, request, cache=True) as call:  # fills the cache before recording starts
        call.run()
    path = tmp_path / "calls.jsonl"
    with replay.record(path), lm_call(lm, request, cache=True) as call:
        call.run()
        assert call.cache_hit is not None
    reset_cache(tmp_path / "cold-cache")
    with replay.play(path), lm_call(lm, request) as played:  # the script is spent: no live call
        assert played.run().text == "4"


def test_recording_appends_and_later_lines_win(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    with replay.record(path):
        _run(PaidLM("old"), _request("Q?"))
    with replay.record(path):
        _run(PaidLM("new"), _request("Q?"))
    assert len(path.read_text().splitlines()) == 2
    with replay.play(path) as player:
        assert player is not None and len(player) == 1
        assert _run(UnreachableLM(), _request("Q?")).text == "new"
    replay.record(path, overwrite=True)
    assert not path.exists()


def test_play_of_a_missing_file_says_how_to_record(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="record one first"):
        replay.play(tmp_path / "nothing.jsonl")
    assert replay.mode == "off"


def test_a_damaged_recording_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text('{"key": "a", "response": {"texts": ["x"]}}\nnot json\n')
    with pytest.raises(ConfigError, match="line 2"):
        replay.play(path)


def test_with_blocks_restore_the_previous_mode(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    replay.record(path)
    assert replay.mode == "record" and replay.path == path
    with replay.off():
        assert replay.mode == "off"
    assert replay.mode == "record"
    assert "record" in repr(replay)
