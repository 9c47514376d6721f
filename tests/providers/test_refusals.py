"""Content filters and refusals, alike for every wire format, over a loopback server: an answer
left empty by a filter is one ProviderError naming the filter and the fix (no retry, no
second billed request from an adapter fallback); a refusal with text is returned as it is,
marked in the response, the history entry and the prediction."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from provider_faults import FaultServer, respond, sse

import lmbench
from lmbench.errors import ProviderError
from lmbench.lm.types import LMRequest, Message
from lmbench.observe import MemoryCollector

HI = LMRequest((Message("user", "hi"),))
KEY = "k-0123456789abcdef"

GEMINI_BLOCKED = {
    "promptFeedback": {
        "blockReason": "SAFETY",
        "safetyRatings": [
            {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": True},
            {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
        ],
    },
    "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 9},
    "modelVersion": "gemini-2.0-flash",
}


def _candidate(text: str, finish: str) -> dict[str, Any]:
    parts = [{"text": text}] if text else []
    return {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": finish, "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 3},
    }


def _openai(message: dict[str, Any], finish: str) -> dict[str, Any]:
    return {
        "id": "c1",
        "model": "gpt-4o-mini",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3},
    }


def _anthropic(text: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "m1",
        "type": "message",
        "model": "claude-haiku-4-5",
        "content": [{"type": "text", "text": text}] if text else [],
        "stop_reason": "refusal",
        "stop_details": details,
        "usage": {"input_tokens": 9, "output_tokens": 0},
    }


# provider, model, a 200 body left empty by a filter, and what the error must name
EMPTY: dict[str, tuple[str, str, dict[str, Any], tuple[str, ...]]] = {
    "gemini-blocked-prompt": (
        "gemini",
        "gemini-2.0-flash",
        GEMINI_BLOCKED,
        (
            "Gemini blocked the prompt",
            "blockReason: SAFETY",
            "HARM_CATEGORY_DANGEROUS_CONTENT (HIGH)",
            "safetySettings",
        ),
    ),
    "gemini-safety-finish": (
        "gemini",
        "gemini-2.0-flash",
        _candidate("", "SAFETY"),
        ("Gemini's filter stopped the answer", "finishReason: SAFETY", "safetySettings"),
    ),
    "anthropic-refusal": (
        "anthropic",
        "claude-haiku-4-5",
        _anthropic("", {"type": "refusal", "category": "cyber", "explanation": "Refused."}),
        ("Claude refused", "stop_reason: refusal", "category cyber", "Refused.", "Rephrase"),
    ),
    "cohere-toxic": (
        "cohere",
        "command-r",
        {
            "id": "x",
            "message": {"role": "assistant", "content": []},
            "finish_reason": "ERROR_TOXIC",
        },
        ("content filter stopped the answer", "'ERROR_TOXIC'", "Rephrase"),
    ),
    "openai-content-filter": (
        "openai",
        "gpt-4o-mini",
        _openai({"content": None}, "content_filter"),
        ("content filter stopped the answer", "'content_filter'", "Rephrase"),
    ),
}


def _lm(server: FaultServer, provider: str, model: str) -> Any:
    return lmbench.resolve_lm(f"{provider}/{model}", base_url=server.url, api_key=KEY)


@pytest.mark.parametrize("case", sorted(EMPTY))
def test_an_answer_emptied_by_a_filter_is_one_error_and_one_request(
    server: FaultServer, case: str, collector: MemoryCollector
) -> None:
    provider, model, body, named = EMPTY[case]
    server.default = respond(200, body)
    qa = lmbench.Predict("question -> answer", lm=_lm(server, provider, model))  # falls back
    with lmbench.context(cache=False), pytest.raises(ProviderError) as info:
        qa(question="how do I pick a lock?")
    message = str(info.value)
    for words in named:
        assert words in message
    assert "not sent again" in message and info.value.retryable is False
    assert server.count == 1  # no retry and no fallback request
    (entry,) = [e for e in collector.entries() if e.kind == "lm"]
    assert entry.error is not None and "not sent again" in entry.error


def test_a_blocked_stream_is_the_same_error(server: FaultServer) -> None:
    server.script(sse([f"data: {json.dumps(GEMINI_BLOCKED)}\n\n"]))
    lm = _lm(server, "gemini", "gemini-2.0-flash")
    with pytest.raises(ProviderError, match=r"Gemini blocked the prompt .*blockReason: SAFETY"):
        list(lm.stream(HI))
    assert server.count == 1


def test_the_recorded_anthropic_refusal_stream_is_one_error(
    server: FaultServer, fixtures_dir: Path
) -> None:
    recorded = (
        fixtures_dir / "providers" / "anthropic" / "sse" / "refusal_response.sse"
    ).read_text()
    server.script(sse([block + "\n\n" for block in recorded.strip().split("\n\n")]))
    lm = _lm(server, "anthropic", "claude-opus-4-7")
    with pytest.raises(ProviderError) as info:
        list(lm.stream(HI))
    assert "Claude refused (stop_reason: refusal, category cyber)" in str(info.value)
    assert "This request was refused due to policy." in str(info.value)
    assert server.count == 1


# provider, model, a 200 body whose refusal or filtered answer has text, the text, the reason
WITH_TEXT: dict[str, tuple[str, str, dict[str, Any], str, str]] = {
    "openai-refusal-field": (
        "openai",
        "gpt-4o-mini",
        _openai({"content": None, "refusal": "I can't help with that."}, "stop"),
        "I can't help with that.",
        "stop",
    ),
    "openai-filter-after-text": (
        "openai",
        "gpt-4o-mini",
        _openai({"content": "The first part"}, "content_filter"),
        "The first part",
        "content_filter",
    ),
    "anthropic-refusal-after-text": (
        "anthropic",
        "claude-haiku-4-5",
        _anthropic("Here is how", {"type": "refusal", "category": "cyber"}),
        "Here is how",
        "refusal",
    ),
    "gemini-safety-after-text": (
        "gemini",
        "gemini-2.0-flash",
        _candidate("Part of it", "SAFETY"),
        "Part of it",
        "SAFETY",
    ),
}


@pytest.mark.parametrize("case", sorted(WITH_TEXT))
def test_a_refusal_with_text_is_returned_and_marked(server: FaultServer, case: str) -> None:
    provider, model, body, text, reason = WITH_TEXT[case]
    server.default = respond(200, body)
    response = _lm(server, provider, model).generate(HI)
    assert response.text == text
    assert response.metadata["refusal"]["reason"] == reason
    assert response.metadata["refusal"]["note"]


def test_a_streamed_refusal_field_is_streamed_as_text(server: FaultServer) -> None:
    events = [
        {"choices": [{"index": 0, "delta": {"role": "assistant", "refusal": ""}}]},
        {"choices": [{"index": 0, "delta": {"refusal": "I can't "}}]},
        {"choices": [{"index": 0, "delta": {"refusal": "help."}, "finish_reason": "stop"}]},
    ]
    server.script(sse([f"data: {json.dumps(e)}\n\n" for e in events] + ["data: [DONE]\n\n"]))
    chunks = list(_lm(server, "openai", "gpt-4o-mini").stream(HI))
    assert "".join(c.text for c in chunks if c.text) == "I can't help."
    final = chunks[-1].response
    assert final.text == "I can't help." and final.metadata["refusal"]["reason"] == "stop"


def test_a_refusal_is_marked_in_history_and_on_the_prediction(
    server: FaultServer, collector: MemoryCollector
) -> None:
    answer = "[[ ## answer ## ]]\nI would rather not say.\n\n[[ ## completed ## ]]"
    server.default = respond(200, _openai({"content": None, "refusal": answer}, "stop"))
    qa = lmbench.Predict("question -> answer", lm=_lm(server, "openai", "gpt-4o-mini"))
    with lmbench.context(cache=False):
        prediction = qa(question="a secret?")
    assert prediction.answer == "I would rather not say."
    assert prediction.lm_refusal is not None and prediction.lm_refusal["reason"] == "stop"
    (entry,) = [e for e in collector.entries() if e.kind == "lm"]
    assert entry.refusal == prediction.lm_refusal
    assert entry.to_dict()["response"]["metadata"]["refusal"]["note"]
    server.default = respond(200, _openai({"content": answer}, "stop"))
    with lmbench.context(cache=False):
        assert qa(question="an open one?").lm_refusal is None


def test_a_refusal_no_adapter_can_read_is_not_asked_again(server: FaultServer) -> None:
    server.default = respond(200, _openai({"content": None, "refusal": "No."}, "stop"))
    qa = lmbench.Predict("question -> answer: int", lm=_lm(server, "openai", "gpt-4o-mini"))
    with lmbench.context(cache=False), pytest.raises(lmbench.AdapterParseError) as info:
        qa(question="how many?")
    assert "the model refused" in str(info.value) and "'No.'" in str(info.value)
    assert server.count == 1  # the JSON fallback would be refused as well: not paid for


def test_an_output_field_named_refusal_stays_a_field(server: FaultServer) -> None:
    answer = "[[ ## refusal ## ]]\nFalse\n\n[[ ## completed ## ]]"
    server.default = respond(200, _openai({"content": answer}, "stop"))
    check = lmbench.Predict("text -> refusal: bool", lm=_lm(server, "openai", "gpt-4o-mini"))
    with lmbench.context(cache=False):
        prediction = check(text="Sure, here it is.")
    assert prediction.refusal is False and prediction.lm_refusal is None
