"""Lone surrogates: escaped where JSON is written, never an error and never a lost record."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from lmbench.storable import storable_json

sys.path.insert(0, str(Path(__file__).parent / "providers"))

from provider_faults import chat_body, respond, running_server


@pytest.mark.parametrize(
    "value",
    [
        {"text": "half an emoji \ud83d here"},
        ["\udc80", "ok"],
        {"k\ud800": "key with a surrogate"},
    ],
)
def test_text_with_lone_surrogates_is_written_escaped(value: object) -> None:
    text = storable_json(value)
    text.encode("utf-8")  # never raises
    assert "\\ud" in text
    assert json.loads(text) == value  # reads back to the same strings


def test_other_text_is_written_unescaped() -> None:
    assert storable_json({"a": "café ✓"}, separators=(",", ":")) == '{"a":"café ✓"}'


def test_a_call_over_http_with_lone_surrogates_keeps_its_history(tmp_path: Path) -> None:
    import lmbench
    from lmbench.lm.registry import resolve_lm
    from lmbench.observe.jsonl import JSONLCollector

    answer = "[[ ## answer ## ]]\ncut \ud83d off\n\n[[ ## completed ## ]]"
    with running_server() as server:
        server.default = respond(200, chat_body(answer))
        lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1")
        history = JSONLCollector(tmp_path / "history.jsonl")
        with lmbench.context(history=history):
            program = lmbench.Predict("question -> answer", lm=lm, adapter="chat")
            first = program(question="a broken \udc80 decode")
            again = program(question="a broken \udc80 decode")  # from the cache
        sent = server.received[0].body
    assert server.count == 1  # the second call was served from the cache
    assert first.answer == again.answer == "cut \ud83d off"
    assert "a broken \udc80 decode" in json.dumps(sent, ensure_ascii=False)
    saved = [_strings(entry.to_dict()) for entry in history.entries()]
    assert any(any("cut \ud83d off" in s for s in strings) for strings in saved)  # the answer
    assert any(any("\udc80" in s for s in strings) for strings in saved)  # the prompt


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, (list, tuple)):
        return [s for item in value for s in _strings(item)]
    return []
