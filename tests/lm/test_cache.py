"""The response cache: both levels, copies, opting out, rollouts, streams, processes, keys."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from lmbench.calls import lm_call, module_call
from lmbench.lm import BaseLM, LMRequest, LMResponse, Message, ScriptedLM, ToolSpec, Usage
from lmbench.lm.cache import ResponseCache, cache, get_cache, reset_cache
from lmbench.lm.cache_key import KEY_VERSION, cache_key, canonical_request
from lmbench.lm.types import Attempt, ToolCall
from lmbench.observe import MemoryCollector
from lmbench.settings import configure, context

SENTINEL = "sk-cache-SENTINEL-abcdefghijklmnopqrstuv"


@pytest.fixture(autouse=True)
def fresh(tmp_path: Path) -> Iterator[ResponseCache]:
    configure(history=MemoryCollector())
    response_cache = reset_cache(tmp_path / "cache")
    yield response_cache
    response_cache.close()


class CountingLM(BaseLM):
    """A cacheable LM that numbers its answers, so a cached answer is recognisable."""

    provider, model = "counting", "v1"
    free = True

    def __init__(self) -> None:
        self.calls = 0

    def generate(self, request: LMRequest) -> LMResponse:
        self.calls += 1
        return LMResponse(
            texts=[f"answer {self.calls} to {request.messages[-1].text}"],
            model=self.model,
            usage=Usage(10, 5),
            metadata={"nested": {"n": self.calls}},
        )


def _request(text: str = "q", **params: object) -> LMRequest:
    return LMRequest(messages=(Message("user", text),), **params)  # type: ignore[arg-type]


def _run(lm: BaseLM, request: LMRequest, **kwargs: object) -> tuple[LMResponse, str]:
    with lm_call(lm, request, **kwargs) as call:  # type: ignore[arg-type]
        response = call.run()
    return response, call.cache_state


def test_a_repeated_call_hits_memory_then_disk_after_memory_is_gone() -> None:
    lm = CountingLM()
    first, state1 = _run(lm, _request())
    second, state2 = _run(lm, _request())
    assert (state1, state2) == ("miss", "memory")
    assert second.text == first.text == "answer 1 to q"
    get_cache()._memory.clear()
    third, state3 = _run(lm, _request())
    fourth, state4 = _run(lm, _request())
    assert (state3, state4) == ("disk", "memory")
    assert third.text == fourth.text == "answer 1 to q"
    assert lm.calls == 1
    stats = cache.stats()
    assert (stats.memory_hits, stats.disk_hits, stats.writes) == (2, 1, 1)
    assert (stats.memory_misses, stats.disk_misses, stats.misses) == (2, 1, 1)
    assert stats.to_dict()["memory"] == {"hits": 2, "misses": 2}
    assert "3 hits (2 memory, 1 disk)" in str(stats)


def test_cached_responses_are_copies() -> None:
    lm = CountingLM()
    original, _ = _run(lm, _request())
    original.texts[0] = "mutated"
    original.metadata["nested"]["n"] = 99
    hit, _ = _run(lm, _request())
    hit.texts.append("extra")
    hit.usage.input_tokens = 0
    again, _ = _run(lm, _request())
    assert again.texts == ["answer 1 to q"]
    assert again.metadata == {"nested": {"n": 1}}
    assert again.usage == Usage(10, 5)
    assert again is not hit


def test_memory_hits_share_nothing_mutable_with_the_cache() -> None:
    class ToolLM(CountingLM):
        def generate(self, request: LMRequest) -> LMResponse:
            response = super().generate(request)
            response.tool_calls = [
                ToolCall("search", {"query": {"terms": ["a"]}}, "c1", {"signature": ["s"]})
            ]
            response.attempts = [Attempt(1, 200, None, 0.0, "ok")]
            return response

    lm = ToolLM()
    _run(lm, _request())
    hit, state = _run(lm, _request())
    assert state == "memory"
    hit.tool_calls[0].arguments["query"]["terms"].append("b")
    assert hit.tool_calls[0].provider_data is not None
    hit.tool_calls[0].provider_data["signature"].append("t")
    hit.tool_calls.append(ToolCall("other", {}))
    hit.attempts.clear()
    hit.metadata["nested"]["n"] = 99
    again, state = _run(lm, _request())
    assert state == "memory" and lm.calls == 1
    assert again.tool_calls == [
        ToolCall("search", {"query": {"terms": ["a"]}}, "c1", {"signature": ["s"]})
    ]
    assert again.attempts == [Attempt(1, 200, None, 0.0, "ok")]
    assert again.metadata == {"nested": {"n": 1}}


def test_cache_hits_show_in_history_with_the_saved_cost() -> None:
    history = MemoryCollector()
    lm = CountingLM()
    with context(history=history), module_call("Predict") as mc:
        _run(lm, _request())
        _run(lm, _request())
    miss, hit = history.entries()[:2]
    assert (miss.cache, hit.cache) == ("miss", "memory")
    assert miss.cache_key == hit.cache_key == cache_key(lm, _request())
    assert hit.saved_usd == 0.0  # a free model saves nothing
    assert mc.usage == Usage(10, 5)  # the hit is not counted twice


def test_cache_false_per_call_and_per_context() -> None:
    lm = CountingLM()
    _run(lm, _request())
    _, state = _run(lm, _request(), cache=False)
    assert state == "off" and lm.calls == 2
    with context(cache=False):
        _, state = _run(lm, _request())
        _, forced = _run(lm, _request(), cache=True)  # the context's "off" wins
    assert (state, forced) == ("off", "off") and lm.calls == 4


def test_sampled_calls_are_not_cached_unless_asked() -> None:
    lm = CountingLM()
    assert _run(lm, _request(temperature=0.7))[1] == "off"
    assert _run(lm, _request(temperature=0.7))[1] == "off"
    assert _run(lm, _request(temperature=0.7), cache=True)[1] == "miss"
    assert _run(lm, _request(temperature=0.7), cache=True)[1] == "memory"
    assert _run(lm, _request(temperature=0))[1] == "miss"
    assert _run(lm, _request(temperature=0.0))[1] == "memory"  # 0 and 0.0 are one key


def test_rollout_ids_give_fresh_samples_that_are_cached_too() -> None:
    lm = CountingLM()
    texts = []
    for rollout in (1, 2, 1, 2):
        with context(rollout_id=rollout):
            response, _ = _run(lm, _request(temperature=1.0))
            texts.append(response.text)
    assert texts == ["answer 1 to q", "answer 2 to q", "answer 1 to q", "answer 2 to q"]
    assert lm.calls == 2
    assert _run(lm, _request(temperature=1.0), rollout_id=3)[0].text == "answer 3 to q"


def test_scripted_lms_are_not_cached_by_default() -> None:
    lm = ScriptedLM(["one", "two"])
    assert [_run(lm, _request())[0].text for _ in range(2)] == ["one", "two"]
    lm.cacheable = True
    third = ScriptedLM(["three", "four"])
    third.cacheable = True
    assert [_run(third, _request())[0].text for _ in range(2)] == ["three", "three"]


def test_a_stream_fills_the_cache_and_a_hit_replays_as_chunks() -> None:
    lm = CountingLM()
    with lm_call(lm, _request("stream me")) as call:
        chunks = list(call.stream())
    assert call.cache_state == "miss"
    assert chunks[-1].response is not None
    with lm_call(lm, _request("stream me")) as call:
        replay = list(call.stream())
    assert call.cache_state == "memory" and lm.calls == 1
    text = "answer 1 to stream me"
    assert "".join(c.text for c in replay) == text
    assert len(replay) > 2 and all(len(c.text) <= 16 for c in replay)
    assert replay[-1].response is not None and replay[-1].response.text == text
    # and a non-streamed call hits what the stream stored
    assert _run(lm, _request("stream me"))[1] == "memory"


def test_an_abandoned_stream_does_not_fill_the_cache() -> None:
    lm = ScriptedLM(["a long answer in many chunks"], chunk_size=2, repeat=True)
    lm.cacheable = True
    with lm_call(lm, _request("partial")) as call:
        for _chunk in call.stream():
            break
    assert _run(lm, _request("partial"), cache=True)[1] == "miss"


def test_the_disk_cache_is_shared_across_processes(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from lmbench.lm import BaseLM, LMRequest, LMResponse, Message, Usage\n"
        "from lmbench.lm.cache_key import cache_key\n"
        "from lmbench.calls import lm_call\n"
        "class CountingLM(BaseLM):\n"
        "    provider, model, free = 'counting', 'v1', True\n"
        "    def generate(self, request):\n"
        "        return LMResponse(texts=['from ' + sys.argv[1]], usage=Usage(10, 5))\n"
        "request = LMRequest(messages=(Message('user', 'shared'),))\n"
        "with lm_call(CountingLM(), request) as call:\n"
        "    response = call.run()\n"
        "print(json.dumps([response.text, call.cache_state, cache_key(CountingLM(), request)]))\n"
    )
    env = {"LMBENCH_CACHE_DIR": str(tmp_path / "shared-cache")}

    def run(tag: str) -> list[str]:
        out = subprocess.run(
            [sys.executable, "-c", script, tag], env=env, capture_output=True, text=True, check=True
        )
        return json.loads(out.stdout)

    first, second = run("first process"), run("second process")
    assert first[:2] == ["from first process", "miss"]
    assert second[:2] == ["from first process", "disk"]
    assert first[2] == second[2] == cache_key(CountingLM(), _request("shared"))
    assert (tmp_path / "shared-cache" / "responses").is_dir()


def test_the_key_covers_the_whole_request_and_never_a_key() -> None:
    base = _request("q", max_tokens=10)
    key = cache_key("counting/v1", base)
    variants = [
        base.replace(max_tokens=11),
        base.replace(messages=(Message("user", "Q"),)),
        base.replace(response_schema={"type": "object"}),
        base.replace(tools=(ToolSpec("t", "d", {"type": "object"}),)),
        base.replace(extra={"top_k": 3}),
    ]
    keys = {cache_key("counting/v1", v) for v in variants} | {
        cache_key("counting/v2", base),
        cache_key("counting/v1", base, rollout_id=1),
    }
    assert key not in keys and len(keys) == len(variants) + 2
    assert len(key) == 64 and int(key, 16) >= 0

    secret_request = base.replace(
        extra={"api_key": SENTINEL, "headers": {"Authorization": f"Bearer {SENTINEL}"}}
    )
    assert SENTINEL not in canonical_request("counting/v1", secret_request)
    assert cache_key("counting/v1", secret_request) == cache_key(
        "counting/v1",
        base.replace(extra={"api_key": "another key", "headers": {"Authorization": "other"}}),
    )


def test_a_key_depends_on_the_request_alone() -> None:
    """The same text and key in every process and Python version. A change here orphans every
    cache entry and recording, so it must come with a new KEY_VERSION."""
    request = LMRequest(
        messages=(Message("system", "Be brief."), Message("user", "h\u00e9llo")),
        temperature=0.0,
        stop=("\n",),
        tools=(ToolSpec("search", "Search the web", {"type": "object"}),),
        extra={"top_k": 3},
    )
    assert KEY_VERSION == 2
    assert canonical_request("openai/gpt-4o-mini", request) == (
        '{"lm":"openai/gpt-4o-mini","messages":[{"content":"Be brief.","role":"system"},'
        '{"content":"h\u00e9llo","role":"user"}],"params":{"extra":{"top_k":3},"max_tokens":null,'
        '"n":1,"response_schema":null,"response_schema_name":"output","seed":null,"stop":["\\n"],'
        '"temperature":0,"tool_choice":null,"tools":[{"description":"Search the web",'
        '"name":"search","parameters":{"type":"object"}}]},"rollout_id":null,"v":2}'
    )
    assert cache_key("openai/gpt-4o-mini", request) == (
        "2db787e3998c15cef8bb641d0307daecc6d554e8668602121dfce3c28598bc7c"
    )


def test_a_value_past_64_bits_runs_uncached_with_a_warning() -> None:
    with pytest.warns(
        RuntimeWarning, match="not cached: cannot build a cache key from the request"
    ):
        _, state = _run(CountingLM(), _request("q", extra={"big": 2**70}))
    assert state == "off"


def test_nothing_stored_on_disk_holds_a_key(fresh: ResponseCache) -> None:
    class KeyedLM(CountingLM):
        def __init__(self) -> None:
            super().__init__()
            self.api_key = SENTINEL

        def generate(self, request: LMRequest) -> LMResponse:
            response = super().generate(request)
            response.metadata["headers"] = {"authorization": f"Bearer {SENTINEL}"}
            response.raw = {"api_key": SENTINEL}
            return response

    _run(KeyedLM(), _request("q", extra={"api_key": SENTINEL}))
    fresh.close()
    folder = fresh.directory
    assert folder is not None
    stored = b"".join(p.read_bytes() for p in folder.rglob("*") if p.is_file())
    assert b"answer 1 to q" in stored
    assert SENTINEL.encode() not in stored


def test_memory_entries_expire_and_the_lru_is_bounded(tmp_path: Path) -> None:
    small = ResponseCache(None, memory_size=2, memory_ttl=0.05)
    response = LMResponse(texts=["x"])
    small.put("a", response)
    small.put("b", response)
    small.put("c", response)
    assert small.get("a") is None and small.get("c") is not None
    time.sleep(0.1)
    assert small.get("c") is None
    assert small.stats().directory is None


def test_clear_empties_both_levels() -> None:
    lm = CountingLM()
    _run(lm, _request())
    cache.clear()
    assert _run(lm, _request())[1] == "miss"
    stats = cache.stats()
    assert stats.memory_entries == 1 and stats.disk_entries == 1


def test_reset_reads_lmbench_cache_dir_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LMBENCH_CACHE_DIR", str(tmp_path / "from-env"))
    assert cache.reset().directory == tmp_path / "from-env" / "responses"
    assert cache.directory == tmp_path / "from-env" / "responses"
    assert reset_cache(None).directory is None


def test_an_unusable_cache_folder_warns_and_caches_in_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    reset_cache(blocker / "cache")
    lm = CountingLM()
    with pytest.warns(RuntimeWarning, match="cannot open the disk cache"):
        _run(lm, _request())
    assert _run(lm, _request())[1] == "memory"


def test_a_request_that_cannot_be_keyed_runs_uncached_with_a_warning() -> None:
    lm = CountingLM()
    request = _request("q", extra={"callback": object()})
    with pytest.warns(
        RuntimeWarning, match="not cached: cannot build a cache key from a value of type object"
    ):
        response, state = _run(lm, request)
    assert (response.text, state) == ("answer 1 to q", "off")


def test_put_many_writes_every_response_to_both_levels(tmp_path: Path) -> None:
    store = ResponseCache(tmp_path / "many")
    store.put_many([(f"k{i}", LMResponse(texts=[f"answer {i}"])) for i in range(3)])
    assert store.stats().writes == 3
    reopened = ResponseCache(tmp_path / "many")
    found = [reopened.get(f"k{i}") for i in range(3)]
    assert [(r.text, level) for r, level in found] == [(f"answer {i}", "disk") for i in range(3)]
    store.close()
    reopened.close()


@pytest.mark.parametrize(
    "stored",
    [
        "{not json",
        "[1, 2, 3]",
        '"a string"',
        '{"texts": 5}',
        '{"texts": ["x"], "usage": "lots"}',
        '{"texts": ["x"], "tool_calls": [7]}',
        b"\x80\x81 not utf-8",
        12345,
    ],
)
def test_a_damaged_disk_entry_is_a_miss_reported_once_then_overwritten(
    fresh: ResponseCache, stored: object
) -> None:
    lm = CountingLM()
    request = _request("damaged")
    key = cache_key(lm, request)
    fresh._disk_cache().set(key, stored)
    with pytest.warns(RuntimeWarning) as warned:
        first, state = _run(lm, request)
        fresh._memory.clear()
        again, state_again = _run(lm, _request("damaged"))  # the same key, from disk
    assert (state, first.texts) == ("miss", ["answer 1 to damaged"])
    assert (state_again, again.texts) == ("disk", ["answer 1 to damaged"])  # overwritten
    messages = [str(w.message) for w in warned]
    assert len(messages) == 1 and "is damaged" in messages[0] and "miss" in messages[0]
    assert "writable" not in messages[0]
    assert lm.calls == 1
