"""Callbacks: the order of events, where they come from, and that a failing one breaks nothing."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from lmbench.calls import Callback, CallbackEvent, emit, lm_call, module_call
from lmbench.calls import callbacks as callbacks_module
from lmbench.lm import LMRequest, Message, ScriptedLM
from lmbench.settings import configure, context

REQUEST = LMRequest(messages=(Message("user", "q"),))


class Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def _keep(self, event: CallbackEvent) -> None:
        self.events.append((event.name, event.call_id))

    on_module_start = on_module_end = on_lm_start = on_lm_end = _keep
    on_adapter_format_start = on_adapter_format_end = _keep
    on_adapter_parse_start = on_adapter_parse_end = _keep
    on_tool_start = on_tool_end = _keep


def _predict_like(lm: ScriptedLM) -> tuple[str, str]:
    """What a Predict does through the seam, with the adapter's and a tool's events."""
    with module_call("Predict", inputs={"question": "q"}) as mc:
        emit("adapter_format_start", adapter="ChatAdapter", inputs={"question": "q"})
        emit("adapter_format_end", adapter="ChatAdapter", messages=list(REQUEST.messages))
        with lm_call(lm, REQUEST, adapter="ChatAdapter") as call:
            call.run()
            emit("adapter_parse_start", adapter="ChatAdapter", text=call.response.text)  # type: ignore[union-attr]
            emit(
                "adapter_parse_end", adapter="ChatAdapter", outputs={"answer": "a"}, diagnostics=[]
            )
        emit("tool_start", tool="search", arguments={"q": "x"})
        emit("tool_end", tool="search", result="found", error=None)
        mc.set_outputs({"answer": "a"})
    return mc.call_id, call.call_id


def test_events_arrive_in_order_with_their_call_ids() -> None:
    recorder = Recorder()
    configure(callbacks=[recorder])
    module_id, lm_id = _predict_like(ScriptedLM(["a"]))
    assert recorder.events == [
        ("module_start", module_id),
        ("adapter_format_start", module_id),
        ("adapter_format_end", module_id),
        ("lm_start", lm_id),
        ("adapter_parse_start", module_id),
        ("adapter_parse_end", module_id),
        ("lm_end", lm_id),
        ("tool_start", module_id),
        ("tool_end", module_id),
        ("module_end", module_id),
    ]


def test_payloads_read_as_attributes() -> None:
    seen: dict[str, Any] = {}

    class Watcher(Callback):
        def on_module_start(self, event: CallbackEvent) -> None:
            seen["inputs"] = event.inputs

        def on_lm_end(self, event: CallbackEvent) -> None:
            seen["text"] = event.response.text
            seen["entry"] = event.entry
            seen["error"] = event.error

        def on_module_end(self, event: CallbackEvent) -> None:
            seen["outputs"] = event.outputs
            with pytest.raises(AttributeError, match="carries"):
                _ = event.nothing_like_this

    with context(callbacks=[Watcher()]):
        _predict_like(ScriptedLM(["a"]))
    assert seen["inputs"] == {"question": "q"}
    assert seen["text"] == "a" and seen["error"] is None
    assert seen["entry"].text == "a"
    assert seen["outputs"] == {"answer": "a"}


def test_settings_and_module_callbacks_both_apply_to_nested_calls() -> None:
    global_recorder, module_recorder = Recorder(), Recorder()
    with (
        context(callbacks=[global_recorder]),
        module_call("Outer", callbacks=[module_recorder]),
        module_call("Inner"),
        lm_call(ScriptedLM(["a"]), REQUEST) as call,
    ):
        call.run()
    names = [name for name, _ in module_recorder.events]
    assert names == [
        "module_start",
        "module_start",
        "lm_start",
        "lm_end",
        "module_end",
        "module_end",
    ]
    assert [name for name, _ in global_recorder.events] == names
    # outside the module, its callbacks are gone
    module_recorder.events.clear()
    with lm_call(ScriptedLM(["b"]), REQUEST) as call:
        call.run()
    assert module_recorder.events == []


def test_the_same_callback_twice_runs_once() -> None:
    recorder = Recorder()
    with (
        context(callbacks=[recorder]),
        module_call("M", callbacks=[recorder]),
        lm_call(ScriptedLM(["a"]), REQUEST) as call,
    ):
        call.run()
    assert [name for name, _ in recorder.events].count("lm_start") == 1


def test_a_raising_callback_is_logged_and_breaks_nothing(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(Callback):
        def on_lm_start(self, event: CallbackEvent) -> None:
            raise RuntimeError("callback bug")

    after = Recorder()
    callbacks_module._warned.clear()
    with (
        context(callbacks=[Broken(), after]),
        caplog.at_level(logging.ERROR, logger="lmbench"),
        pytest.warns(RuntimeWarning, match="Broken.on_lm_start raised"),
        lm_call(ScriptedLM(["still works"]), REQUEST) as call,
    ):
        assert call.run().text == "still works"
    assert ("lm_end", call.call_id) in after.events  # later callbacks still ran
    assert any("callback bug" in (r.exc_text or "") for r in caplog.records)
    assert call.entry is not None and call.entry.error is None


def test_emit_rejects_unknown_events() -> None:
    with pytest.raises(ValueError, match="unknown callback event 'lm_begin'"):
        emit("lm_begin")


def test_emit_without_callbacks_does_nothing() -> None:
    emit("tool_start", tool="t", arguments={})
