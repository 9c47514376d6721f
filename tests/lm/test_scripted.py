from __future__ import annotations

import pytest

from lmbench.errors import ConfigError
from lmbench.lm import LMRequest, Message, ScriptedLM


def request(text: str, n: int = 1) -> LMRequest:
    return LMRequest(messages=(Message("user", text),), n=n)


def test_answers_in_order_and_records_requests() -> None:
    lm = ScriptedLM(["one", "two"])
    assert lm.generate(request("a")).text == "one"
    assert lm.generate(request("b")).text == "two"
    assert [r.messages[0].text for r in lm.requests] == ["a", "b"]
    assert lm.last_prompt == "b"
    with pytest.raises(ConfigError, match="ran out of answers after 2 calls"):
        lm.generate(request("c"))


def test_answers_by_prompt_match() -> None:
    lm = ScriptedLM({"France": "Paris", "Italy": "Rome"})
    assert lm.generate(request("capital of Italy?")).text == "Rome"
    with pytest.raises(ConfigError, match="no scripted answer"):
        lm.generate(request("capital of Spain?"))


def test_repeat_default_and_n() -> None:
    assert ScriptedLM(["a"], repeat=True).generate(request("x", n=3)).texts == ["a", "a", "a"]
    assert ScriptedLM([], default="d").generate(request("x")).text == "d"


def test_stream_chunks_join_to_the_answer() -> None:
    lm = ScriptedLM(["a fairly long answer text"], chunk_size=5)
    chunks = list(lm.stream(request("x")))
    assert "".join(c.text for c in chunks) == "a fairly long answer text"
    assert (
        chunks[-1].response is not None and chunks[-1].response.text == "a fairly long answer text"
    )
    assert len(chunks) == 6  # five of text, then the final one carrying the response


def test_usage_is_counted() -> None:
    response = ScriptedLM(["12345678"]).generate(request("abcdefghijklmnop"))
    assert (response.usage.input_tokens, response.usage.output_tokens) == (4, 2)


def test_answers_can_call_tools_natively() -> None:
    from lmbench.lm.scripted import Reply
    from lmbench.lm.types import ToolCall

    lm = ScriptedLM(
        [
            ToolCall("lookup", {"city": "Paris"}),
            [ToolCall("lookup", {"city": "Oslo"}), ToolCall("lookup", {"city": "Rome"}, "mine")],
            Reply("Checking.", [ToolCall("lookup", {"city": "Lima"})]),
            "Done.",
        ]
    )
    assert lm.capabilities.tools is True
    assert ScriptedLM(["text only"]).capabilities.tools is False
    assert ScriptedLM(["text only"], tools=True).capabilities.tools is True
    request = LMRequest((Message("user", "Weather?"),))
    first = lm.generate(request)
    assert first.tool_calls == [ToolCall("lookup", {"city": "Paris"}, "call_1")]
    assert (first.text, first.finish_reason) == ("", "tool_calls")
    second = lm.generate(request)
    assert [c.id for c in second.tool_calls] == ["call_2", "mine"]
    chunks = list(lm.stream(request))
    assert "".join(c.text for c in chunks) == "Checking."
    assert chunks[-1].response.tool_calls[0].arguments == {"city": "Lima"}
    last = lm.generate(request)
    assert (last.text, last.tool_calls, last.finish_reason) == ("Done.", [], "stop")


def test_a_bad_scripted_answer_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match=r"ScriptedLM answer 42 \(int\) is not text, a ToolCall"):
        ScriptedLM([42])  # type: ignore[list-item]
