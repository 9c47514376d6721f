"""Traces: the call tree as JSON, and OpenTelemetry spans when tracing is set up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lmbench.calls import lm_call, module_call
from lmbench.lm import Attempt, BaseLM, LMRequest, LMResponse, Message, ScriptedLM, Usage
from lmbench.observe import export_trace

REQUEST = LMRequest(messages=(Message("user", "q"),))


class RetriedLM(BaseLM):
    free = True

    def generate(self, request: LMRequest) -> LMResponse:
        return LMResponse(
            texts=["done"],
            usage=Usage(3, 1),
            attempts=[
                Attempt(1, 503, "busy", 0.5, "retryable status"),
                Attempt(2, 200, None, 0.0, "ok"),
            ],
        )


def _run() -> object:
    cached = ScriptedLM(["cached answer"])
    cached.cacheable = True
    with module_call("ChainOfThought", signature="q -> a") as root:
        with module_call("Predict", signature="q -> reasoning, a"):
            with lm_call(ScriptedLM(["bad"]), REQUEST, adapter="ChatAdapter") as call:
                call.run()
                call.set_parse(
                    adapter="ChatAdapter",
                    diagnostics=[{"message": "no markers"}],
                    error=ValueError("no fields"),
                )
            with lm_call(RetriedLM(), REQUEST, adapter="JSONAdapter") as call:
                call.run()
                call.set_parse(adapter="JSONAdapter", diagnostics=[], fallback_from="ChatAdapter")
        for _ in range(2):
            with lm_call(cached, REQUEST) as call:
                call.run()
    return root


def test_the_call_tree_shows_attempts_fallbacks_retries_and_cache_hits() -> None:
    root = _run()
    tree = root.to_dict()  # type: ignore[attr-defined]
    assert json.loads(json.dumps(tree)) == tree
    assert (tree["kind"], tree["module"], tree["offset_s"]) == ("module", "ChainOfThought", 0.0)
    predict, miss, hit = tree["children"]
    assert predict["module"] == "Predict"
    chat, fallback = predict["children"]
    assert (chat["adapter"], chat["error"], chat["diagnostics"]) == (
        "ChatAdapter",
        "ValueError: no fields",
        [{"message": "no markers"}],
    )
    assert (fallback["adapter"], fallback["fallback_from"]) == ("JSONAdapter", "ChatAdapter")
    assert [a["status"] for a in fallback["attempts"]] == [503, 200]
    assert (miss["cache"], hit["cache"]) == ("miss", "memory")
    # timings: every node starts after its parent and ends before it
    for node in (predict, miss, hit, chat, fallback):
        assert 0 <= node["offset_s"] <= tree["duration_s"]
        assert node["duration_s"] <= tree["duration_s"]
    assert chat["offset_s"] <= fallback["offset_s"]
    # usage excludes the cache hit
    assert (
        tree["usage"]["output_tokens"]
        == chat["usage"]["output_tokens"]
        + fallback["usage"]["output_tokens"]
        + miss["usage"]["output_tokens"]
    )


def test_export_trace_writes_json(tmp_path: Path) -> None:
    root = _run()
    path = export_trace(root, tmp_path / "trace.json")  # type: ignore[arg-type]
    assert json.loads(path.read_text()) == root.to_dict()  # type: ignore[attr-defined]
    assert json.loads(root.to_json()) == root.to_dict()  # type: ignore[attr-defined]


def test_open_telemetry_spans() -> None:
    pytest.importorskip("opentelemetry.sdk.trace", reason="opentelemetry-sdk is not installed")
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):  # the global provider can be set only once
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    try:
        with provider.get_tracer("test").start_as_current_span("app"):
            _run()
        finished = exporter.get_finished_spans()
    finally:
        exporter.shutdown()  # later tests' spans are dropped
    spans = {s.name: s for s in finished}
    assert set(spans) >= {
        "app",
        "lmbench.module ChainOfThought",
        "lmbench.module Predict",
        "chat test",
    }
    root = spans["lmbench.module ChainOfThought"]
    assert root.parent.span_id == spans["app"].context.span_id
    assert spans["lmbench.module Predict"].parent.span_id == root.context.span_id
    lm_spans = [s for s in finished if s.name == "chat test"]
    assert {s.attributes["lmbench.cache"] for s in lm_spans} == {"off", "miss", "memory"}
    failed = next(s for s in lm_spans if s.attributes["lmbench.cache"] == "off")
    assert failed.status.status_code == trace.StatusCode.ERROR
    assert failed.attributes["gen_ai.request.model"] == "test"
    assert failed.attributes["gen_ai.usage.output_tokens"] == 1  # "bad": one token
