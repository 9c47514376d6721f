"""Reasoning blocks before the answer: never read as the answer, in every adapter."""

from __future__ import annotations

import pytest

from lmbench.adapters import (
    Adapter,
    ChatAdapter,
    FallbackAdapter,
    JSONAdapter,
    TwoStepAdapter,
    XMLAdapter,
)
from lmbench.adapters.plan import signature_plan
from lmbench.adapters.reasoning import mask_reasoning
from lmbench.errors import AdapterParseError
from lmbench.lm.scripted import ScriptedLM
from lmbench.signatures import Signature

SIG = Signature("question -> answer: int")
COT = Signature("question -> reasoning, answer: int")

# Each adapter's answer format, with the draft (1) inside the reasoning and the final (2) after.
FORMATS: dict[str, tuple[Adapter, str]] = {
    "chat": (ChatAdapter(), "[[ ## answer ## ]]\n{value}\n\n[[ ## completed ## ]]"),
    "json": (JSONAdapter(), '{{"answer": {value}}}'),
    "xml": (XMLAdapter(), "<answer>{value}</answer>"),
}
# How reasoning models open their replies; {draft} is a full draft answer in the format.
WRAPPERS = [
    "<think>\nLet me see. {draft}\nNo, wait.\n</think>\n\n{final}",
    "<thinking>{draft}</thinking>{final}",
    "  <reasoning>\n{draft}\n</reasoning>\n{final}",
    "<THINK>{draft}</THINK>\n{final}",
    "<think>a</think>\n<think>{draft}</think>\n{final}",  # several blocks
    "Hmm, {draft} seems right... </think>\n{final}",  # the opening tag was in the prompt
    "<reflection>{draft}</reflection>\n{final}",
    "< think >{draft}</ think >\n{final}",
    "[THINK]{draft}[/THINK]\n{final}",  # Mistral's Magistral
    "[think]\n{draft}\n[/think]{final}",
    "<|thinking|>{draft}<|/thinking|>\n{final}",
    "<|begin_of_thought|>{draft}<|end_of_thought|>\n{final}",
    "◁think▷{draft}◁/think▷\n{final}",  # Kimi
    '<think type="internal" budget=20>{draft}</think>\n{final}',  # attributes
    "Sure!\n<think>{draft}</think>\n{final}",  # a short lead-in
    "Okay, let me work through this. <think>{draft}</think>{final}",
    "<think>a</think>[THINK]{draft}[/THINK]\n{final}",  # styles mixed
    "{draft} reasoning done [/THINK]\n{final}",  # bracket opening in the prompt
]


@pytest.mark.parametrize("wrapper", WRAPPERS)
@pytest.mark.parametrize("form", sorted(FORMATS))
def test_the_draft_inside_reasoning_never_wins(form: str, wrapper: str) -> None:
    adapter, template = FORMATS[form]
    text = wrapper.format(draft=template.format(value=1), final=template.format(value=2))
    result = adapter.parse_with_repairs(SIG, text)
    assert result.values == {"answer": 2}
    assert result.repairs[0].rule == "reasoning_block"


@pytest.mark.parametrize("form", sorted(FORMATS))
def test_reasoning_that_never_closes_is_refused(form: str) -> None:
    adapter, template = FORMATS[form]
    text = "<think>\nThe answer is probably\n" + template.format(value=1)
    with pytest.raises(AdapterParseError) as info:
        adapter.parse(SIG, text)
    assert "only reasoning" in info.value.reason
    assert info.value.raw == text


@pytest.mark.parametrize("form", sorted(FORMATS))
def test_reasoning_with_nothing_after_it_is_refused(form: str) -> None:
    adapter, template = FORMATS[form]
    with pytest.raises(AdapterParseError):
        adapter.parse(SIG, "<think>" + template.format(value=1) + "</think>\n")


@pytest.mark.parametrize("opening", ["[THINK]", "<|thinking|>", "Sure! <think>"])
def test_every_style_that_never_closes_is_refused(opening: str) -> None:
    adapter, template = FORMATS["json"]
    with pytest.raises(AdapterParseError) as info:
        adapter.parse(SIG, opening + "\n" + template.format(value=1))
    assert "only reasoning" in info.value.reason


def test_a_field_heading_is_not_a_lead_in() -> None:
    """``answer: <think>`` starts the answer field; its heading is not prose to drop."""
    plan = signature_plan(Signature("question -> answer"))
    text = "answer: <think> is the tag"
    assert mask_reasoning(plan, text) == (text, [])


def test_the_lead_in_is_named_in_the_repair() -> None:
    result = ChatAdapter().parse_with_repairs(
        SIG, "Sure!\n<think>x</think>\n[[ ## answer ## ]]\n2\n\n[[ ## completed ## ]]"
    )
    assert result.values == {"answer": 2}
    assert "'Sure!'" in result.repairs[0].detail


def test_a_reasoning_field_of_the_signature_is_a_field_not_a_preamble() -> None:
    text = "<reasoning>Two and two.</reasoning>\n<answer>4</answer>"
    result = XMLAdapter().parse_with_repairs(COT, text)
    assert result.values == {"reasoning": "Two and two.", "answer": 4}
    assert not result.repairs


def test_a_think_block_before_chain_of_thought_fields_is_ignored() -> None:
    text = "<think>[[ ## answer ## ]]\n1</think>\n[[ ## reasoning ## ]]\nsum\n[[ ## answer ## ]]\n4"
    assert ChatAdapter().parse(COT, text) == {"reasoning": "sum", "answer": 4}


def test_think_tags_later_in_a_value_are_part_of_it() -> None:
    signature = Signature("question -> answer")
    text = "[[ ## answer ## ]]\nModels wrap it in <think>...</think> tags.\n[[ ## completed ## ]]"
    assert ChatAdapter().parse(signature, text) == {
        "answer": "Models wrap it in <think>...</think> tags."
    }


def test_masking_keeps_positions_so_spans_point_into_the_raw_text() -> None:
    text = "<think>{'answer': 1}</think>\n[[ ## answer ## ]]\nmany\n[[ ## completed ## ]]"
    masked, repairs = mask_reasoning(signature_plan(SIG), text)
    assert len(masked) == len(text) and "answer': 1" not in masked
    assert [r.rule for r in repairs] == ["reasoning_block"]
    with pytest.raises(AdapterParseError) as info:
        ChatAdapter().parse(SIG, text)
    assert info.value.span is not None
    assert text[info.value.span[0] : info.value.span[1]] == "many"


def test_fallback_does_not_pick_the_draft_either() -> None:
    text = '<think>{"answer": 1}</think>\nThe answer: {"answer": 2}'
    assert FallbackAdapter().parse(SIG, text) == {"answer": 2}


def test_streaming_shows_nothing_from_inside_the_reasoning() -> None:
    chat = ChatAdapter()
    assert chat.partial_fields(SIG, "<think>\n[[ ## answer ## ]]\n1") == {}
    assert chat.partial_fields(SIG, "<think>x</think>\n[[ ## answer ## ]]\n2") == {"answer": "2"}
    assert XMLAdapter().partial_fields(SIG, "<think><answer>1</answer>") == {}
    assert JSONAdapter().partial_fields(SIG, '<think>{"answer": 1}') == {}


def test_two_step_extracts_from_the_reply_without_its_reasoning() -> None:
    main = ScriptedLM(["<think>Maybe 1 egg.</think>\nThere are 12 eggs."])
    extractor = ScriptedLM(['{"answer": 12}'])
    result = TwoStepAdapter(extraction_lm=extractor).run(main, SIG, {"question": "Eggs?"})
    assert result.completions == [{"answer": 12}]
    assert "Maybe 1 egg" not in extractor.last_prompt
    assert "There are 12 eggs." in extractor.last_prompt
    assert result.repairs[0].rule == "reasoning_block"


def test_two_step_refuses_a_reply_that_is_only_reasoning() -> None:
    main = ScriptedLM(["<think>Maybe 1 egg, but let me count"])
    extractor = ScriptedLM(['{"answer": 1}'])
    with pytest.raises(AdapterParseError) as info:
        TwoStepAdapter(extraction_lm=extractor).run(main, SIG, {"question": "Eggs?"})
    assert (info.value.field, info.value.adapter) == ("answer", "TwoStepAdapter")
    assert "only reasoning" in info.value.reason
