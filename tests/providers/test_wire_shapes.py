"""Answers of the wrong shape, for every wire format (whole bodies, stream events, embedding
bodies): one ``ProviderError`` naming the provider, the API and status 200, never a bare
``AttributeError``/``TypeError`` and never a second request. Usage reports that are missing,
negative or text keep the answer and never count negative tokens."""

from __future__ import annotations

from typing import Any

import pytest
from provider_answers import PROVIDERS
from provider_faults import FaultServer, respond, sse

import lmbench
from lmbench.errors import ProviderError
from lmbench.lm.embedding import EmbeddingRequest
from lmbench.lm.types import LMRequest, Message
from lmbench.providers.embedding_catalog import resolve_embedding_model
from lmbench.providers.wire.base import token_count

HI = LMRequest((Message("user", "hi"),))
KEY = "k-test-0123456789"

# provider -> bodies of a 200 that no parser of that API can read
WRONG_BODIES: dict[str, list[Any]] = {
    "openai-compatible": [
        {"choices": "none"},
        {"choices": [None]},
        {"choices": [{"message": "text"}]},
        {"choices": [{"message": {"content": [None]}}]},
        {"choices": [{"message": {"content": "a", "tool_calls": "x"}}]},
    ],
    "mistral": [{"choices": [{"message": {"content": [7]}}]}],
    "openrouter": [{"choices": [{"message": {"tool_calls": [None]}}]}],
    "anthropic": [
        {"content": "text"},
        {"content": [None]},
        {"type": "error", "error": "overloaded"},
    ],
    "gemini": [
        {"candidates": "none"},
        {"candidates": [None]},
        {"candidates": [{"content": "text"}]},
        {"candidates": [{"content": {"parts": [None]}}]},
        {"promptFeedback": "blocked"},
    ],
    "cohere": [
        {"message": {"content": "text"}},
        {"message": {"content": [None]}},
        {"message": {"tool_calls": "x"}},
    ],
    "ollama": [
        {"message": {"content": 5}, "done": True},
        {"message": {"content": "a", "tool_calls": "x"}, "done": True},
    ],
}
CASES = [(p, body) for p, bodies in WRONG_BODIES.items() for body in bodies]


@pytest.mark.parametrize(
    ("provider", "body"), CASES, ids=[f"{p}-{i}" for i, (p, _) in enumerate(CASES)]
)
def test_a_body_of_the_wrong_shape_is_one_provider_error(
    server: FaultServer, provider: str, body: Any
) -> None:
    answers = PROVIDERS[provider]
    server.script(respond(200, body))
    server.default = respond(200, answers.body("a second, billed answer"))
    lm = lmbench.resolve_lm(answers.name, base_url=server.url, api_key=KEY)
    with pytest.raises(ProviderError) as info:
        lm.generate(HI)
    assert type(info.value) is ProviderError
    assert str(info.value).startswith(f"{provider} HTTP 200: ")
    assert "does not have the shape of the" in str(info.value) and "base_url" in str(info.value)
    assert server.count == 1 and not info.value.retryable


@pytest.mark.parametrize(
    "event", ["[1, 2]", '"text"', "null", '{"choices": "x"}', '{"choices": [{"delta": "x"}]}']
)
def test_a_stream_event_of_the_wrong_shape_is_one_provider_error(
    server: FaultServer, event: str
) -> None:
    answers = PROVIDERS["openai-compatible"]
    server.script(sse([f"data: {event}\n\n", *answers.events("never")]))
    lm = lmbench.resolve_lm(answers.name, base_url=server.url)
    with pytest.raises(ProviderError, match="does not have the shape of the openai-chat API"):
        list(lm.stream(HI))
    assert server.count == 1


@pytest.mark.parametrize("provider", ["anthropic", "gemini", "cohere", "ollama"])
def test_every_stream_format_refuses_an_event_of_the_wrong_shape(
    server: FaultServer, provider: str
) -> None:
    answers = PROVIDERS[provider]
    ndjson = answers.content_type != "text/event-stream"
    bad = "[1, 2]\n" if ndjson else "event: message_start\ndata: [1, 2]\n\n"
    server.script(sse([bad, *answers.events("never")], content_type=answers.content_type))
    lm = lmbench.resolve_lm(answers.name, base_url=server.url, api_key=KEY)
    with pytest.raises(ProviderError) as info:
        list(lm.stream(HI))
    assert "error inside the stream after 0 events" in str(info.value)
    assert info.value.status == 200


def test_a_malformed_stream_event_says_the_answer_is_incomplete(server: FaultServer) -> None:
    answers = PROVIDERS["openai-compatible"]
    events = answers.events("fine")
    server.script(sse([events[0], "data: {not json\n\n", *events[1:]]))
    lm = lmbench.resolve_lm(answers.name, base_url=server.url)
    with pytest.raises(ProviderError, match=r"malformed stream event .* after 1 events"):
        list(lm.stream(HI))


# provider -> a good answer whose usage report is damaged, and where that report sits
DAMAGED_USAGE: dict[str, tuple[str, Any]] = {
    "openai-compatible": ("usage", {"prompt_tokens": "12", "completion_tokens": -3}),
    "anthropic": ("usage", {"input_tokens": "7", "output_tokens": -2}),
    "gemini": ("usageMetadata", {"promptTokenCount": "9", "candidatesTokenCount": -1}),
    "cohere": ("usage", {"billed_units": {"input_tokens": "x", "output_tokens": "4"}}),
    "ollama": ("prompt_eval_count", "lots"),
}


@pytest.mark.parametrize("provider", sorted(DAMAGED_USAGE))
@pytest.mark.parametrize("damage", ["counts", "not an object"])
def test_damaged_usage_keeps_the_answer_and_counts_nothing_negative(
    server: FaultServer, provider: str, damage: str
) -> None:
    answers = PROVIDERS[provider]
    body = answers.body("kept")
    where, value = DAMAGED_USAGE[provider]
    body[where] = value if damage == "counts" else "many"
    server.script(respond(200, body))
    lm = lmbench.resolve_lm(answers.name, base_url=server.url, api_key=KEY)
    response = lm.generate(HI)
    assert response.text == "kept"
    usage = response.usage
    counts = (usage.input_tokens, usage.output_tokens, usage.cached_tokens, usage.reasoning_tokens)
    assert all(type(n) is int and n >= 0 for n in counts)
    if damage == "counts" and provider != "ollama":
        assert usage.total_tokens > 0  # the readable counts are kept


@pytest.mark.parametrize(
    ("value", "count"),
    [
        (12, 12),
        ("12", 12),
        (" 7 ", 7),
        (3.0, 3),
        (-4, 0),
        ("-4", 0),
        ("x", 0),
        (None, 0),
        (True, 0),
        (float("nan"), 0),
        (float("inf"), 0),
        ([1], 0),
        ({"n": 1}, 0),
    ],
)
def test_token_count(value: Any, count: int) -> None:
    assert token_count(value) == count


# -- embeddings ---------------------------------------------------------------------------------

ONE, TWO = ("a",), ("a", "b")
WRONG_EMBEDDINGS: list[tuple[str, tuple[str, ...], Any]] = [
    ("openai/text-embedding-3-small", ONE, {"data": "none"}),
    ("openai/text-embedding-3-small", ONE, {"data": [None]}),
    ("openai/text-embedding-3-small", ONE, {"data": [{"embedding": [1, "x"]}]}),
    ("openai/text-embedding-3-small", TWO, {"data": [{"embedding": [1, 2]}, {"embedding": [1]}]}),
    ("gemini/text-embedding-004", ONE, {"embeddings": "none"}),
    ("gemini/text-embedding-004", ONE, {"embeddings": [None]}),
    ("cohere/embed-english-v3.0", TWO, {"embeddings": {"float": [[1.0], None]}}),
    ("ollama/nomic-embed-text", ONE, {"embeddings": [["a"]]}),
]


@pytest.mark.parametrize(("name", "texts", "body"), WRONG_EMBEDDINGS)
def test_an_embedding_body_of_the_wrong_shape_is_one_provider_error(
    server: FaultServer, name: str, texts: tuple[str, ...], body: Any
) -> None:
    server.default = respond(200, body)
    model = resolve_embedding_model(name, base_url=server.url, api_key=KEY)
    with pytest.raises(ProviderError) as info:
        model.embed(EmbeddingRequest(texts))
    assert info.value.status == 200 and server.count == 1


def test_embedding_usage_of_the_wrong_kind_keeps_the_vectors(server: FaultServer) -> None:
    server.default = respond(200, {"data": [{"embedding": [1.0, 2.0]}], "usage": "lots"})
    model = resolve_embedding_model(
        "openai/text-embedding-3-small", base_url=server.url, api_key=KEY
    )
    response = model.embed(EmbeddingRequest(("a",)))
    assert response.vectors.tolist() == [[1.0, 2.0]] and response.usage.input_tokens == 0
