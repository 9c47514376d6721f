"""Adapters tell callbacks when they format a prompt and parse an answer."""

from __future__ import annotations

import pytest

import lmbench
from lmbench.calls.callbacks import Callback, CallbackEvent
from lmbench.errors import AdapterParseError


class Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[CallbackEvent] = []

    def on_adapter_format_start(self, event: CallbackEvent) -> None:
        self.events.append(event)

    def on_adapter_format_end(self, event: CallbackEvent) -> None:
        self.events.append(event)

    def on_adapter_parse_start(self, event: CallbackEvent) -> None:
        self.events.append(event)

    def on_adapter_parse_end(self, event: CallbackEvent) -> None:
        self.events.append(event)


def test_format_and_parse_events_in_order() -> None:
    recorder = Recorder()
    lm = lmbench.ScriptedLM(["[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"])
    qa = lmbench.Predict("question -> answer: int", lm=lm, adapter="chat", callbacks=[recorder])
    qa(question="2+2?")
    names = [e.name for e in recorder.events]
    assert names == [
        "adapter_format_start",
        "adapter_format_end",
        "adapter_parse_start",
        "adapter_parse_end",
    ]
    assert recorder.events[0].inputs == {"question": "2+2?"}
    assert recorder.events[1].messages[-1].role == "user"
    assert recorder.events[2].texts == ["[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"]
    assert recorder.events[3].outputs == [{"answer": 4}]


def test_parse_failure_is_reported_to_callbacks() -> None:
    recorder = Recorder()
    lm = lmbench.ScriptedLM(["[[ ## answer ## ]]\nnot a number\n\n[[ ## completed ## ]]"])
    qa = lmbench.Predict("question -> answer: int", lm=lm, adapter="chat", callbacks=[recorder])
    with pytest.raises(AdapterParseError):
        qa(question="2+2?")
    last = recorder.events[-1]
    assert last.name == "adapter_parse_end"
    assert isinstance(last.error, AdapterParseError)
    assert last.error.field == "answer"


def test_two_step_reports_the_format_of_both_calls_and_the_parse_of_the_extraction() -> None:
    recorder = Recorder()
    main = lmbench.ScriptedLM(["Two and two make 4."])
    extractor = lmbench.ScriptedLM(['{"answer": 4}'])
    qa = lmbench.Predict(
        "question -> answer: int",
        lm=main,
        adapter=lmbench.TwoStepAdapter(extraction_lm=extractor),
        callbacks=[recorder],
    )
    assert qa(question="2+2?").answer == 4
    formats = [e for e in recorder.events if e.name == "adapter_format_end"]
    assert [e.adapter for e in formats] == ["TwoStepAdapter", "JSONAdapter"]
    assert formats[0].messages[-1].content == "question: 2+2?"
    parses = [e for e in recorder.events if e.name == "adapter_parse_end"]
    assert [e.adapter for e in parses] == ["JSONAdapter"]
