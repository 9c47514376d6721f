"""A 200 response with no answer in it is one ProviderError, for every wire format, and no
adapter fallback pays for a second request."""

from __future__ import annotations

import json
from typing import Any

import pytest
from provider_faults import FaultServer, respond, sse

import lmbench
from lmbench.errors import ProviderError
from lmbench.lm.types import LMRequest, Message

HI = LMRequest((Message("user", "hi"),))

# model name, and a 200 body of that API with usage but no choice/candidate/message in it
NO_CHOICES: dict[str, tuple[str, dict[str, Any]]] = {
    "openai": (
        "gpt-4o-mini",
        {"id": "c1", "model": "gpt-4o-mini", "choices": [], "usage": {"prompt_tokens": 9}},
    ),
    "anthropic": (
        "claude-3-5-haiku-latest",
        {"id": "m1", "type": "message", "model": "claude", "usage": {"input_tokens": 9}},
    ),
    "gemini": (
        "gemini-2.0-flash",
        {"usageMetadata": {"promptTokenCount": 9}, "modelVersion": "gemini-2.0-flash"},
    ),
    "cohere": ("command-r", {"id": "x", "finish_reason": "COMPLETE", "usage": {}}),
    "ollama": ("llama3", {"model": "llama3", "done": True, "prompt_eval_count": 9}),
}


@pytest.mark.parametrize("provider", sorted(NO_CHOICES))
def test_no_choices_is_one_error_and_one_request(server: FaultServer, provider: str) -> None:
    model, body = NO_CHOICES[provider]
    server.default = respond(200, body)
    lm = lmbench.resolve_lm(f"{provider}/{model}", base_url=server.url, api_key="k-123456789")
    qa = lmbench.Predict("question -> answer", lm=lm)  # the default adapter falls back to JSON
    with lmbench.context(cache=False), pytest.raises(ProviderError) as info:
        qa(question="2+2?")
    assert "the response had no choices" in str(info.value)
    assert server.count == 1
    assert [a.status for a in info.value.attempts] == [200]


def test_an_empty_choice_is_an_answer_not_an_error(server: FaultServer) -> None:
    body = {"choices": [{"index": 0, "message": {"content": ""}, "finish_reason": "stop"}]}
    server.default = respond(200, body)
    lm = lmbench.resolve_lm("openai-compatible/m", base_url=server.url)
    assert lm.generate(HI).texts == [""]


def test_a_stream_without_choices_is_one_error(server: FaultServer) -> None:
    usage_only = {"id": "c1", "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 0}}
    server.script(sse([f"data: {json.dumps(usage_only)}\n\n", "data: [DONE]\n\n"]))
    lm = lmbench.resolve_lm("openai-compatible/m", base_url=server.url)
    with pytest.raises(ProviderError, match="the response had no choices"):
        list(lm.stream(HI))
    assert server.count == 1
