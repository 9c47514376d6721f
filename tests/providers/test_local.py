"""The embedded local model, run for real (llama.cpp and Gemma 3 270M)."""

from __future__ import annotations

import functools
import json
import threading
from typing import Literal

import pydantic
import pytest

from lmbench.errors import ConfigError, ProviderError
from lmbench.lm.base import LM
from lmbench.lm.registry import DEFAULT_MODEL, resolve_lm
from lmbench.lm.types import LMRequest, LMResponse, Message
from lmbench.providers.local import LocalLM, local_model_unavailable
from lmbench.providers.local_prompt import format_prompt

_missing = local_model_unavailable()
pytestmark = [
    pytest.mark.local_model,
    pytest.mark.skipif(_missing is not None, reason=f"local model unavailable: {_missing}"),
]


@pytest.fixture(scope="module")
def lm() -> LocalLM:
    model = resolve_lm(DEFAULT_MODEL)
    assert isinstance(model, LocalLM)
    return model


def ask(question: str, **params: object) -> LMRequest:
    messages = (Message("system", "Answer briefly."), Message("user", question))
    return LMRequest(messages=messages, **params)  # type: ignore[arg-type]


def test_the_default_model_is_the_local_gemma(lm: LocalLM) -> None:
    assert isinstance(lm, LM)
    assert lm.name == "local/gemma-3-270m"
    assert lm.free
    caps = lm.capabilities
    assert caps.structured_output and caps.streaming and caps.prefers_structured_output


def test_generate_returns_text_usage_and_timing(lm: LocalLM) -> None:
    response = lm.generate(ask("What is the capital of France?", max_tokens=24))
    assert "Paris" in response.text
    assert response.provider == "local"
    assert response.model == "gemma-3-270m"
    assert response.usage.input_tokens > 10
    assert 0 < response.usage.output_tokens <= 24
    assert response.finish_reason in ("stop", "length")
    assert response.latency_s > 0
    assert response.metadata["model_path"].endswith(".gguf")


def test_usage_matches_what_llama_cpp_counts(lm: LocalLM) -> None:
    request = ask("Name three colours.", max_tokens=20)
    response = lm.generate(request)
    llama = lm.load().llama
    llama.reset()  # as LocalLM does: no prefix reused from the last call
    direct = llama.create_completion(
        format_prompt(request.messages), max_tokens=20, temperature=0.0, stop=["\nUser:"]
    )
    assert direct["choices"][0]["text"] == " " + response.text  # the space after "Assistant:"
    assert response.usage.input_tokens == direct["usage"]["prompt_tokens"]
    assert response.usage.output_tokens == direct["usage"]["completion_tokens"]


def test_a_stop_sequence_ends_the_text_before_it(lm: LocalLM) -> None:
    request = ask("What is the capital of France?", max_tokens=40)
    full = lm.generate(request).text
    assert "Paris" in full
    response = lm.generate(request.replace(stop=("Paris",)))
    assert response.finish_reason == "stop"
    assert response.text == full[: full.index("Paris")]


def test_max_tokens_cuts_the_answer_and_says_so(lm: LocalLM) -> None:
    response = lm.generate(ask("Write a long story about a dragon.", max_tokens=5))
    assert response.finish_reason == "length"
    assert response.usage.output_tokens == 5


def test_stream_yields_pieces_that_join_into_the_final_text(lm: LocalLM) -> None:
    request = ask("What is the capital of Italy?", max_tokens=24)
    chunks = list(lm.stream(request))
    final = chunks[-1].response
    assert isinstance(final, LMResponse)
    pieces = [c.text for c in chunks[:-1]]
    assert len(pieces) >= 3
    assert all(c.response is None for c in chunks[:-1])
    assert "".join(pieces) == final.text
    assert final.text == lm.generate(request).text  # same greedy decode either way
    assert final.ttft_s is not None and 0 < final.ttft_s <= final.latency_s


def test_stream_usage_equals_generate_usage(lm: LocalLM) -> None:
    for request in (
        ask("Why is the sky blue?", max_tokens=30),
        ask("Say hi.", max_tokens=60, stop=("!",)),
    ):
        streamed = list(lm.stream(request))[-1].response
        assert streamed is not None
        assert streamed.usage == lm.generate(request).usage
        assert streamed.usage.output_tokens > 0


class Person(pydantic.BaseModel):
    name: str
    age: int
    height_m: float
    student: bool
    favourite_colour: Literal["red", "green", "blue"]
    hobbies: list[str]


class Answer(pydantic.BaseModel):
    answer: str
    confidence: float


class Numbers(pydantic.BaseModel):
    values: list[int]
    sorted: bool


class Address(pydantic.BaseModel):
    city: str
    country: str


class Company(pydantic.BaseModel):
    name: str
    employees: int
    headquarters: Address


@pytest.mark.parametrize(
    ("model", "question"),
    [
        (
            Person,
            "Alice is 31, 1.68 m tall, a student who likes blue and plays chess. Describe her.",
        ),
        (Answer, "What is the capital of Japan?"),
        (Numbers, "List the first five prime numbers."),
        (Company, "Acme has 120 employees and is based in Lyon, France. Describe it."),
    ],
)
def test_a_json_schema_request_returns_json_valid_for_the_schema(
    lm: LocalLM, model: type[pydantic.BaseModel], question: str
) -> None:
    request = ask(question, response_schema=model.model_json_schema(), max_tokens=200)
    response = lm.generate(request)
    assert response.finish_reason == "stop", response.text
    model.model_validate(json.loads(response.text), strict=True)


def test_a_streamed_json_schema_request_is_valid_too(lm: LocalLM) -> None:
    request = ask("What is the capital of Spain?", response_schema=Answer.model_json_schema())
    chunks = list(lm.stream(request))
    Answer.model_validate_json("".join(c.text for c in chunks))


@pytest.mark.parametrize(
    "extra",
    [{}, {"repeat_penalty": 0.9}],  # penalties that only lower logits allow the top-k step
    ids=["top-k-first", "whole-vocabulary"],
)
def test_greedy_grammar_decoding_matches_llama_cpp_pythons_own(
    lm: LocalLM, monkeypatch: pytest.MonkeyPatch, extra: dict[str, float]
) -> None:
    import llama_cpp

    from lmbench.providers.local_llama import GrammarLastSampler

    schema = Person.model_json_schema()
    request = ask("Bob is 40 and likes red.", response_schema=schema, max_tokens=60, extra=extra)
    fast = lm.generate(request)
    llama = lm.load().llama
    assert isinstance(llama._sampler, GrammarLastSampler)
    own = functools.partial(llama_cpp.Llama._init_sampler, llama)
    monkeypatch.setattr(llama, "_init_sampler", own)
    reference = lm.generate(request)
    assert not isinstance(llama._sampler, GrammarLastSampler)
    assert fast.text == reference.text
    assert fast.usage == reference.usage


def test_sampling_under_a_grammar_at_a_temperature_stays_valid(lm: LocalLM) -> None:
    from lmbench.providers.local_llama import GrammarLastSampler

    schema = Answer.model_json_schema()
    request = ask("What is the capital of Spain?", response_schema=schema, temperature=0.8, seed=5)
    response = lm.generate(request)
    assert not isinstance(lm.load().llama._sampler, GrammarLastSampler)
    Answer.model_validate_json(response.text)


def test_seed_and_temperature_zero_are_deterministic(lm: LocalLM) -> None:
    greedy = ask("Invent a name for a cat.", max_tokens=16, temperature=0.0, seed=7)
    assert lm.generate(greedy).text == lm.generate(greedy).text


def test_the_same_seed_samples_the_same_text_at_high_temperature(lm: LocalLM) -> None:
    def sample(seed: int) -> str:
        return lm.generate(
            ask("Invent a name for a cat.", max_tokens=8, temperature=1.5, seed=seed)
        ).text

    assert sample(11) == sample(11)
    assert len({sample(seed) for seed in range(4)}) > 1


def test_n_choices_are_sampled_with_consecutive_seeds(lm: LocalLM) -> None:
    response = lm.generate(
        ask("Invent a name for a dog.", max_tokens=8, temperature=1.5, seed=3, n=3)
    )
    assert len(response.texts) == 3
    singles = [
        lm.generate(ask("Invent a name for a dog.", max_tokens=8, temperature=1.5, seed=seed))
        for seed in (3, 4, 5)
    ]
    assert response.texts == [s.text for s in singles]
    assert response.usage.output_tokens == sum(s.usage.output_tokens for s in singles)
    assert response.usage.input_tokens == 3 * singles[0].usage.input_tokens


def test_extra_sampling_options_are_passed_and_unknown_ones_refused(lm: LocalLM) -> None:
    request = ask("Name a fruit.", max_tokens=8, temperature=0.8, seed=1, extra={"top_k": 1})
    greedy = ask("Name a fruit.", max_tokens=8)
    assert lm.generate(request).text == lm.generate(greedy).text  # top_k=1 is greedy
    with pytest.raises(ConfigError, match=r"\['beam_width'\].*top_p"):
        lm.generate(ask("Name a fruit.", extra={"beam_width": 2}))


def test_two_threads_at_once_both_get_their_own_answers(lm: LocalLM) -> None:
    requests = [
        ask("What is the capital of France?", max_tokens=16),
        ask("What is 2 + 2?", max_tokens=16),
    ]
    expected = [lm.generate(r).text for r in requests]
    results: dict[int, str] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def call(i: int) -> None:
        try:
            barrier.wait()
            results[i] = lm.generate(requests[i]).text
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert [results[0], results[1]] == expected


def test_an_abandoned_stream_frees_the_model_for_the_next_call(lm: LocalLM) -> None:
    stream = lm.stream(ask("Tell me about the sea.", max_tokens=40))
    first = next(stream)
    assert first.text
    stream.close()
    done = threading.Event()
    thread = threading.Thread(target=lambda: (lm.generate(ask("Hi.", max_tokens=4)), done.set()))
    thread.start()
    thread.join(timeout=120)  # a deadlock guard, not a speed check
    assert done.is_set()


def test_instances_share_one_loaded_model(lm: LocalLM) -> None:
    assert LocalLM().load() is lm.load()
    assert LocalLM(str(lm.load().path)).load().llama is not None


def test_a_prompt_longer_than_the_context_window_is_a_clear_error() -> None:
    small = LocalLM(n_ctx=256)
    with pytest.raises(ProviderError, match=r"more than the context window n_ctx=256.*n_ctx=512"):
        small.generate(ask("word " * 400))


async def test_agenerate_and_astream(lm: LocalLM) -> None:
    request = ask("What is the capital of Germany?", max_tokens=16)
    response = await lm.agenerate(request)
    chunks = [chunk async for chunk in lm.astream(request)]
    assert chunks[-1].response is not None
    assert "".join(c.text for c in chunks) == response.text == chunks[-1].response.text
