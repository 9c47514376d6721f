"""FallbackAdapter: later adapters take over on parse failures and schema rejections, visibly."""

from __future__ import annotations

import logging

import pytest

from lmbench.adapters import (
    AdapterResult,
    ChatAdapter,
    FallbackAdapter,
    FieldDelta,
    JSONAdapter,
    XMLAdapter,
)
from lmbench.calls import module_call
from lmbench.errors import AdapterParseError, ConfigError, ProviderError
from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import Capabilities, LMRequest, LMResponse
from lmbench.signatures import Signature

SIG = Signature("question -> answer: int")
GARBAGE = "I believe the answer is four, more or less."
VALID_JSON = '{"answer": 4}'


class SchemaRejectingLM(ScriptedLM):
    """Claims structured output, then answers HTTP 400 to any request carrying a schema."""

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(structured_output=True)

    def generate(self, request: LMRequest) -> LMResponse:
        if request.response_schema is not None:
            self.requests.append(request)
            raise ProviderError(
                "response_format json_schema is not supported", provider="test", status=400
            )
        return super().generate(request)


class FailingLM(ScriptedLM):
    """Fails every call with the given HTTP status."""

    def __init__(self, status: int) -> None:
        super().__init__([])
        self.status = status

    def generate(self, request: LMRequest) -> LMResponse:
        raise ProviderError("boom", provider="test", status=self.status)


def test_garbage_for_chat_falls_back_to_json_and_records_both_tries(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lm = ScriptedLM([GARBAGE, VALID_JSON])
    with module_call("Predict", signature="test") as node:
        result = FallbackAdapter([ChatAdapter(), JSONAdapter()]).run(lm, SIG, {"question": "2+2?"})
    assert result.completions == [{"answer": 4}]
    assert result.adapter == "JSONAdapter"
    chat_try, json_try = result.attempts
    assert chat_try.adapter == "ChatAdapter"
    assert chat_try.error == (
        "AdapterParseError: ChatAdapter could not parse field 'answer' (expected int): "
        "no [[ ## answer ## ]] marker in the answer"
    )
    assert chat_try.usage.output_tokens == len(GARBAGE) // 4
    assert (json_try.adapter, json_try.error) == ("JSONAdapter", None)
    calls = node.lm_calls()
    assert [(c.adapter, c.fallback_from) for c in calls] == [
        ("ChatAdapter", None),
        ("JSONAdapter", "ChatAdapter"),
    ]
    assert calls[0].error is not None
    warnings = [r for r in caplog.records if r.name == "lmbench" and r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert warnings[0].getMessage().startswith("ChatAdapter failed (AdapterParseError: ")
    assert warnings[0].getMessage().endswith("; falling back to JSONAdapter")
    # the second prompt is the JSON adapter's own
    assert "Answer with a single JSON object" in lm.requests[1].messages[0].text


def test_no_fallback_when_the_first_adapter_succeeds() -> None:
    lm = ScriptedLM(["[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"])
    result = FallbackAdapter().run(lm, SIG, {"question": "2+2?"})
    assert [(a.adapter, a.error) for a in result.attempts] == [("ChatAdapter", None)]
    assert len(lm.requests) == 1


def test_disabled_fallback_raises_the_first_error() -> None:
    lm = ScriptedLM([GARBAGE, VALID_JSON])
    with pytest.raises(AdapterParseError) as info:
        FallbackAdapter([ChatAdapter(), JSONAdapter()], enabled=False).run(
            lm, SIG, {"question": "2+2?"}
        )
    assert info.value.adapter == "FallbackAdapter"
    assert "ChatAdapter: AdapterParseError" in info.value.reason
    assert len(lm.requests) == 1


def test_when_every_adapter_fails_the_error_lists_each_try() -> None:
    lm = ScriptedLM([GARBAGE, "still not JSON"])
    with pytest.raises(AdapterParseError) as info:
        FallbackAdapter().run(lm, SIG, {"question": "2+2?"})
    error = info.value
    assert error.adapter == "FallbackAdapter"
    assert error.reason.startswith(
        "no adapter could parse the answer: ChatAdapter: AdapterParseError"
    )
    assert "JSONAdapter: AdapterParseError: JSONAdapter could not parse" in error.reason
    assert error.raw == "still not JSON"
    assert error.usage.output_tokens == len(GARBAGE) // 4 + len("still not JSON") // 4
    assert isinstance(error.__cause__, AdapterParseError)


def test_a_rejected_structured_output_request_falls_back() -> None:
    lm = SchemaRejectingLM(["[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"])
    result = FallbackAdapter([JSONAdapter(), ChatAdapter()]).run(lm, SIG, {"question": "2+2?"})
    assert result.completions == [{"answer": 4}]
    assert result.attempts[0].adapter == "JSONAdapter"
    assert (
        result.attempts[0].error
        == "ProviderError: test HTTP 400: response_format json_schema is not supported"
    )
    assert lm.requests[0].response_schema is not None
    assert lm.requests[1].response_schema is None


@pytest.mark.parametrize("status", [400, 500])
def test_other_provider_errors_are_raised_not_fallen_back_from(status: int) -> None:
    with pytest.raises(ProviderError) as info:
        FallbackAdapter([ChatAdapter(), JSONAdapter()]).run(
            FailingLM(status), SIG, {"question": "?"}
        )
    assert info.value.status == status


def test_parse_without_an_lm_raises_when_no_adapter_reads_the_text() -> None:
    with pytest.raises(AdapterParseError) as info:
        FallbackAdapter([ChatAdapter(), JSONAdapter()]).parse(SIG, "<answer>4</answer>")
    assert info.value.reason.startswith(
        "no adapter could parse the answer: ChatAdapter: AdapterParseError: ChatAdapter could not parse"
    )
    assert "; JSONAdapter: AdapterParseError: JSONAdapter could not parse" in info.value.reason


def test_parse_records_which_adapter_read_the_text() -> None:
    adapter = FallbackAdapter([JSONAdapter(), XMLAdapter()])
    result = adapter.parse_with_repairs(SIG, "<answer>4</answer>")
    assert result.values == {"answer": 4}
    assert result.repairs[0].rule == "fallback_parse"
    assert result.repairs[0].detail.startswith(
        "parsed by XMLAdapter after: JSONAdapter: AdapterParseError: JSONAdapter could not parse"
    )


def test_prompt_and_request_are_the_first_adapters() -> None:
    adapter = FallbackAdapter([XMLAdapter(), JSONAdapter()])
    assert adapter.render(SIG, {"question": "?"}) == XMLAdapter().render(SIG, {"question": "?"})
    assert adapter.partial_fields(SIG, "<answer>4") == {"answer": "4"}


def test_an_empty_chain_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="at least one adapter"):
        FallbackAdapter([])


def test_stream_falls_back_and_marks_the_result() -> None:
    lm = ScriptedLM([GARBAGE, VALID_JSON])
    events = list(FallbackAdapter().stream(lm, SIG, {"question": "2+2?"}))
    result = events[-1]
    assert isinstance(result, AdapterResult)
    assert result.completions == [{"answer": 4}]
    assert [a.adapter for a in result.attempts] == ["ChatAdapter", "JSONAdapter"]
    assert FieldDelta("answer", "4", "4") in events


async def test_arun_falls_back_too() -> None:
    lm = ScriptedLM([GARBAGE, VALID_JSON])
    result = await FallbackAdapter().arun(lm, SIG, {"question": "2+2?"})
    assert result.completions == [{"answer": 4}]
    assert [a.error is None for a in result.attempts] == [False, True]


async def test_astream_falls_back_too() -> None:
    lm = ScriptedLM([GARBAGE, VALID_JSON])
    events = [event async for event in FallbackAdapter().astream(lm, SIG, {"question": "2+2?"})]
    assert isinstance(events[-1], AdapterResult)
    assert events[-1].adapter == "JSONAdapter"


def test_repr_shows_the_chain() -> None:
    assert (
        repr(FallbackAdapter(enabled=False))
        == "FallbackAdapter([ChatAdapter(), JSONAdapter()], enabled=False)"
    )
