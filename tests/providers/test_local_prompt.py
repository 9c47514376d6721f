"""Chat messages written out as a completion prompt for the base model."""

from __future__ import annotations

import pytest

from lmbench.errors import ConfigError
from lmbench.lm.types import Message, ToolCall
from lmbench.providers.local_prompt import TURN_STOP, format_prompt, is_prefill


def test_system_then_turns_ending_on_the_assistant_label() -> None:
    prompt = format_prompt(
        [
            Message("system", "Answer briefly."),
            Message("user", "What is 2 + 2?"),
            Message("assistant", "4"),
            Message("user", "And 3 + 3?"),
        ]
    )
    assert prompt == (
        "Answer briefly.\n\nUser: What is 2 + 2?\n\nAssistant: 4\n\nUser: And 3 + 3?\n\nAssistant:"
    )


def test_system_text_comes_first_wherever_it_was() -> None:
    prompt = format_prompt(
        [Message("user", "Hi"), Message("system", "Be kind."), Message("system", "Be brief.")]
    )
    assert prompt == "Be kind.\n\nBe brief.\n\nUser: Hi\n\nAssistant:"


def test_a_trailing_assistant_message_is_left_open_for_the_model_to_continue() -> None:
    messages = [Message("user", "Name a colour."), Message("assistant", "The colour is")]
    assert format_prompt(messages) == "User: Name a colour.\n\nAssistant: The colour is"
    assert is_prefill(messages)
    assert not is_prefill(messages[:1])
    assert not is_prefill([])


def test_an_open_assistant_message_keeps_its_trailing_newline() -> None:
    messages = [Message("user", "Q?\n"), Message("assistant", "[[ ## answer ## ]]\n")]
    assert format_prompt(messages) == "User: Q?\n\nAssistant: [[ ## answer ## ]]\n"


def test_no_messages_gives_just_the_answer_label() -> None:
    assert format_prompt([]) == "Assistant:"


def test_multi_line_text_follows_its_label() -> None:
    prompt = format_prompt([Message("user", "[[ ## question ## ]]\nWhy?\n")])
    assert prompt == "User: [[ ## question ## ]]\nWhy?\n\nAssistant:"


def test_tool_calls_and_results_are_written_out() -> None:
    prompt = format_prompt(
        [
            Message("user", "Weather in Paris?"),
            Message("assistant", "", tool_calls=(ToolCall("weather", {"city": "Paris"}, id="c1"),)),
            Message("tool", "18 C, sunny", tool_call_id="c1", name="weather"),
        ]
    )
    assert prompt == (
        "User: Weather in Paris?\n\n"
        'Assistant: Tool call: weather {"city": "Paris"}\n\n'
        "Tool result (weather): 18 C, sunny\n\n"
        "Assistant:"
    )


def test_text_parts_are_joined() -> None:
    message = Message(
        "user", [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]
    )
    assert format_prompt([message]) == "User: Hello there\n\nAssistant:"


def test_an_image_part_is_refused_with_the_fix() -> None:
    message = Message(
        "user", [{"type": "text", "text": "What is this?"}, {"type": "image", "url": "x"}]
    )
    with pytest.raises(ConfigError, match=r"text only.*message 0 \(user\).*'image'.*multimodal"):
        format_prompt([message])


def test_turn_stop_marks_the_start_of_a_new_user_turn() -> None:
    follow_up = format_prompt(
        [Message("user", "a"), Message("assistant", "b"), Message("user", "c")]
    )
    assert TURN_STOP in follow_up
    assert TURN_STOP not in format_prompt([Message("user", "a")])
