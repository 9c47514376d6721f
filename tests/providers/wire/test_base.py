"""Pieces every wire format shares: the response draft, extra fields, media parts."""

from __future__ import annotations

import pytest

from lmbench.errors import InputError
from lmbench.lm.types import LMRequest, Message, ToolCall
from lmbench.providers.wire.base import (
    Draft,
    as_data_url,
    media_source,
    merge_extra,
    require_single_choice,
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
    draft.native_finish = "MALFORMED_FUNCTION_CALL"
    assert draft.build().finish_reason == "malformed_function_call"


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
