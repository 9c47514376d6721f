"""Pieces every wire format shares: the response draft, extra fields, media parts."""

from __future__ import annotations

import types

import pytest

from lmbench.errors import InputError
from lmbench.lm.types import LMRequest, Message, ToolCall, ToolSpec
from lmbench.providers.wire.base import (
    Draft,
    DraftStream,
    WireError,
    add_function_calls,
    as_data_url,
    error_from,
    expect_object,
    extend_function_call,
    function_calls,
    function_tools,
    media_source,
    merge_extra,
    merge_turns,
    require_single_choice,
    sampling_fields,
    tool_call_names,
)


def test_draft_assembles_fragments_and_repairs_cut_arguments() -> None:
    draft = Draft({"end_turn": "stop"})
    draft.extend_call("a", '{"city": "Pa', name="weather", id="t1")
    draft.extend_call("a", 'ris"}')
    draft.extend_call("b", '{"items": [1, 2', name="list_items")
    draft.add_text("Hi", 1)
    draft.native_finish = "end_turn"
    response = draft.build()
    assert response.texts == ["", "Hi"]
    assert response.tool_calls[0] == ToolCall("weather", {"city": "Paris"}, "t1")
    assert response.tool_calls[1].arguments == {"items": [1, 2]} and response.tool_calls[1].id
    assert response.metadata["repaired_tool_arguments"] == ["list_items"]
    assert response.finish_reason == "tool_calls"  # a stop with tool calls
    assert response.metadata["native_finish_reason"] == "end_turn"


def test_unknown_finish_reasons_are_lowercased() -> None:
    draft = Draft({})
    draft.add_text("")
    draft.native_finish = "MALFORMED_FUNCTION_CALL"
    assert draft.build().finish_reason == "malformed_function_call"


def test_a_draft_without_any_choice_is_no_answer_not_an_empty_one() -> None:
    draft = Draft({})
    draft.native_finish = "stop"
    with pytest.raises(WireError, match="the response had no choices"):
        draft.build()
    draft.saw_answer()
    assert draft.build().texts == [""]


def test_merge_extra_merges_one_level() -> None:
    body = {"generationConfig": {"temperature": 0}, "model": "m"}
    merged = merge_extra(body, {"generationConfig": {"topK": 3}, "safetySettings": []})
    assert merged == {
        "generationConfig": {"temperature": 0, "topK": 3},
        "model": "m",
        "safetySettings": [],
    }


def test_media_sources() -> None:
    assert media_source({"type": "image", "url": "https://x/y.png?z=1"}) == (
        "url",
        "https://x/y.png?z=1",
        "image/png",
    )
    assert media_source({"type": "image", "url": "data:image/gif;base64,R0lG"}) == (
        "base64",
        "R0lG",
        "image/gif",
    )
    assert (
        as_data_url({"type": "image", "data": "QUJD", "media_type": "image/webp"})
        == "data:image/webp;base64,QUJD"
    )
    with pytest.raises(InputError, match="needs 'url' or 'data'"):
        media_source({"type": "image"})


def test_single_choice_and_tool_names() -> None:
    with pytest.raises(InputError, match="make n separate calls"):
        require_single_choice(LMRequest((Message("user", "x"),), n=3), "Some")
    history = (Message("assistant", "", tool_calls=(ToolCall("f", {}, "id1"),)),)
    assert tool_call_names(history) == {"id1": "f"}


def test_function_calls_whole_and_streamed() -> None:
    draft = Draft({})
    add_function_calls(
        draft,
        [
            {"id": "c1", "function": {"name": "f", "arguments": '{"x": 1}'}},
            {"function": {"name": "g", "arguments": {"y": 2}}},
        ],
    )
    extend_function_call(draft, "s", {"id": "c3", "function": {"name": "h", "arguments": '{"z'}})
    extend_function_call(draft, "s", {"function": {"arguments": '": 3}'}})
    calls = draft.build().tool_calls
    assert [(c.name, c.arguments) for c in calls] == [
        ("f", {"x": 1}),
        ("g", {"y": 2}),
        ("h", {"z": 3}),
    ]
    assert calls[0].id == "c1" and calls[1].id.startswith("call_") and calls[2].id == "c3"


def test_function_shapes_out() -> None:
    tool = ToolSpec(name="f", description="does f", parameters={"type": "object"})
    assert function_tools([tool]) == [
        {
            "type": "function",
            "function": {"name": "f", "description": "does f", "parameters": {"type": "object"}},
        }
    ]
    assert function_calls([ToolCall("f", {"x": "é"}, "c1")]) == [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x":"é"}'}}
    ]


def test_sampling_fields_use_the_api_names_and_skip_unset() -> None:
    request = LMRequest((Message("user", "x"),), temperature=0, max_tokens=5, n=2, stop=("a",))
    assert sampling_fields(request, max_tokens="maxOutputTokens", n="candidateCount", stop="s") == {
        "temperature": 0,
        "maxOutputTokens": 5,
        "candidateCount": 2,
        "s": ["a"],
    }
    assert sampling_fields(
        LMRequest((Message("user", "x"),), seed=3), max_tokens=None, stop="s"
    ) == {"seed": 3}
    assert sampling_fields(request, max_tokens=None, stop="s", seed=None) == {
        "temperature": 0,
        "s": ["a"],
    }


def test_merge_turns_joins_consecutive_roles() -> None:
    turns = [("user", [1]), ("user", [2]), ("model", [3]), ("user", [4])]
    assert merge_turns(turns, "parts") == [
        {"role": "user", "parts": [1, 2]},
        {"role": "model", "parts": [3]},
        {"role": "user", "parts": [4]},
    ]


def test_body_errors() -> None:
    with pytest.raises(WireError, match="expected a JSON object, got list"):
        expect_object([])
    coded = error_from({"message": "slow down", "code": 429})
    assert (coded.message, coded.status) == ("slow down", 429)
    named = error_from({"message": "bad", "code": "invalid_request"})
    assert (named.message, named.status) == ("bad", None)
    assert error_from("boom").message == "boom"


def test_draft_stream_finishes_on_end_marker_or_finish_reason() -> None:
    class Lines(DraftStream):
        finish_map = types.MappingProxyType({"done": "stop"})

    by_reason, by_marker = Lines(), Lines()
    assert not by_reason.finished
    by_reason.draft.native_finish = "done"
    by_reason.draft.add_text("")
    by_marker._done = True
    assert by_reason.finished and by_marker.finished
    assert by_reason.result().finish_reason == "stop"
