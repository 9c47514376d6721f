"""TwoStepAdapter: a free-form answer from the main LM, fields extracted by a second LM."""

from __future__ import annotations

import pytest

from lmbench.adapters import AdapterResult, FieldDelta, JSONAdapter, TwoStepAdapter
from lmbench.calls import module_call
from lmbench.errors import AdapterParseError, ConfigError
from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import Usage
from lmbench.signatures import Signature

SIG = Signature("question -> answer: int, unit")
FREE_FORM = "Counting carefully, there are 12 eggs in a dozen."


def test_the_main_call_is_a_plain_prompt() -> None:
    text = TwoStepAdapter().render(SIG, {"question": "Eggs in a dozen?"})
    assert text.endswith("--- user ---\nquestion: Eggs in a dozen?")
    assert "Answer in your own words, and make sure the answer states `answer`, `unit`." in text
    assert "[[ ##" not in text


def test_two_calls_both_recorded_and_usage_summed() -> None:
    main = ScriptedLM([FREE_FORM])
    extractor = ScriptedLM(['{"answer": 12, "unit": "eggs"}'])
    with module_call("Predict", signature="test") as node:
        result = TwoStepAdapter(extraction_lm=extractor).run(
            main, SIG, {"question": "Eggs in a dozen?"}
        )
    assert result.completions == [{"answer": 12, "unit": "eggs"}]
    assert result.adapter == "TwoStepAdapter"
    calls = node.lm_calls()
    assert [call.lm for call in calls] == [main, extractor]
    assert [call.adapter for call in calls] == ["TwoStepAdapter", "JSONAdapter"]
    first, second = (call.response.usage for call in calls)
    assert result.attempts[0].usage == first + second
    # the extraction prompt carries the main LM's reply under the extraction signature
    assert f"[[ ## text ## ]]\n{FREE_FORM}" in extractor.last_prompt
    assert "Extract from it the fields `answer`, `unit`" in extractor.last_prompt


def test_the_main_lm_extracts_when_no_extraction_lm_is_given() -> None:
    lm = ScriptedLM([FREE_FORM, '{"answer": 12, "unit": "eggs"}'])
    result = TwoStepAdapter().run(lm, SIG, {"question": "Eggs?"})
    assert result.completions == [{"answer": 12, "unit": "eggs"}]
    assert len(lm.requests) == 2


def test_every_choice_of_the_main_call_is_extracted() -> None:
    main = ScriptedLM(["Twelve eggs.", "Six eggs."])
    extractor = ScriptedLM(['{"answer": 12, "unit": "eggs"}', '{"answer": 6, "unit": "eggs"}'])
    result = TwoStepAdapter(extraction_lm=extractor).run(
        main, SIG, {"question": "?"}, config={"n": 2}
    )
    assert result.completions == [{"answer": 12, "unit": "eggs"}, {"answer": 6, "unit": "eggs"}]
    assert [m.text for m in extractor.requests[1].messages][-1].startswith(
        "[[ ## text ## ]]\nSix eggs."
    )


def test_a_failed_extraction_names_the_two_step_adapter() -> None:
    main = ScriptedLM([FREE_FORM])
    extractor = ScriptedLM(['{"answer": "a dozen", "unit": "eggs"}'])
    with pytest.raises(AdapterParseError) as info:
        TwoStepAdapter(extraction_lm=extractor).run(main, SIG, {"question": "?"})
    error = info.value
    assert (error.adapter, error.field, error.expected) == ("TwoStepAdapter", "answer", "int")
    assert error.reason == "the extraction call (JSONAdapter) failed: 'a dozen' contains no number"
    assert error.usage.output_tokens > 0


def test_parse_uses_the_extraction_lm() -> None:
    extractor = ScriptedLM(['{"answer": 12, "unit": "eggs"}'])
    assert TwoStepAdapter(extraction_lm=extractor).parse(SIG, FREE_FORM) == {
        "answer": 12,
        "unit": "eggs",
    }


def test_parse_without_an_extraction_lm_says_how_to_give_one() -> None:
    with pytest.raises(ConfigError, match=r"TwoStepAdapter\(extraction_lm=\.\.\.\)"):
        TwoStepAdapter().parse(SIG, FREE_FORM)


def test_a_custom_extraction_adapter_is_used() -> None:
    extractor = ScriptedLM(['{"answer": 12, "unit": "eggs"}'])
    adapter = TwoStepAdapter(
        extraction_lm=extractor, extraction_adapter=JSONAdapter(structured_output=False)
    )
    assert adapter.run(ScriptedLM([FREE_FORM]), SIG, {"question": "?"}).completions == [
        {"answer": 12, "unit": "eggs"}
    ]


def test_an_output_named_text_keeps_the_extraction_input_apart() -> None:
    signature = Signature("question -> text")
    extractor = ScriptedLM(['{"text": "hello"}'])
    result = TwoStepAdapter(extraction_lm=extractor).run(
        ScriptedLM(["Say hello."]), signature, {"question": "?"}
    )
    assert result.completions == [{"text": "hello"}]
    assert "[[ ## source_text ## ]]\nSay hello." in extractor.last_prompt


def test_stream_gives_whole_fields_then_the_result() -> None:
    extractor = ScriptedLM(['{"answer": 12, "unit": "eggs"}'])
    events = list(
        TwoStepAdapter(extraction_lm=extractor).stream(
            ScriptedLM([FREE_FORM]), SIG, {"question": "?"}
        )
    )
    assert events[:2] == [FieldDelta("answer", "12", "12"), FieldDelta("unit", "eggs", "eggs")]
    assert isinstance(events[2], AdapterResult)


async def test_arun_makes_both_calls() -> None:
    extractor = ScriptedLM(['{"answer": 12, "unit": "eggs"}'])
    result = await TwoStepAdapter(extraction_lm=extractor).arun(
        ScriptedLM([FREE_FORM]), SIG, {"question": "?"}
    )
    assert result.completions == [{"answer": 12, "unit": "eggs"}]
    assert result.attempts[0].usage != Usage()
