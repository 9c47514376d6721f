"""History entries: JSON round trip, and no secret in anything they serialise to."""

from __future__ import annotations

import json
from pathlib import Path

from lmbench.calls import lm_call, module_call
from lmbench.lm import BaseLM, LMRequest, LMResponse, Message, ToolCall, ToolSpec, Usage
from lmbench.observe import HistoryEntry, JSONLCollector, MemoryCollector
from lmbench.settings import context

SENTINEL = "sk-test-SENTINEL-0123456789abcdefghij"


class KeyedLM(BaseLM):
    """An LM holding an API key, whose provider echoes headers into metadata and raw."""

    provider, model = "openai", "gpt-4o-mini"
    cacheable = False

    def __init__(self) -> None:
        self.api_key = SENTINEL

    def generate(self, request: LMRequest) -> LMResponse:
        return LMResponse(
            texts=["ok"],
            tool_calls=[ToolCall("lookup", {"q": "x"}, id="call_1")],
            usage=Usage(5, 1),
            metadata={"headers": {"Authorization": f"Bearer {SENTINEL}", "x-request-id": "r1"}},
            raw={"echo": {"api_key": SENTINEL}},
        )


def _request() -> LMRequest:
    return LMRequest(
        messages=(Message("user", "hi"),),
        tools=(ToolSpec("lookup", "Look up", {"type": "object"}),),
        response_schema={"type": "object"},
        extra={"api_key": SENTINEL, "user": "u1"},
    )


def test_secrets_never_reach_serialised_entries(tmp_path: Path, collector: MemoryCollector) -> None:
    jsonl = JSONLCollector(tmp_path / "h.jsonl")
    with (
        context(history=[collector, jsonl], save_raw=True),
        module_call("Predict"),
        lm_call(KeyedLM(), _request()) as call,
    ):
        call.run()
    entry = collector.entries()[0]
    text = json.dumps(entry.to_dict())
    assert SENTINEL not in text
    assert SENTINEL not in repr(entry)
    assert SENTINEL not in (tmp_path / "h.jsonl").read_text()
    data = entry.to_dict()
    assert data["request"]["extra"] == {"api_key": "[redacted]", "user": "u1"}
    assert data["response"]["metadata"]["headers"]["x-request-id"] == "r1"
    assert data["raw"] == {"echo": {"api_key": "[redacted]"}}
    jsonl.close()


def test_round_trip_keeps_tools_schema_and_tool_calls(collector: MemoryCollector) -> None:
    with lm_call(KeyedLM(), _request()) as call:
        call.run()
    data = collector.entries()[0].to_dict()
    again = HistoryEntry.from_dict(json.loads(json.dumps(data)))
    assert again.to_dict() == data
    assert again.request is not None and again.request.tools[0].name == "lookup"
    assert again.response is not None and again.response.tool_calls[0].arguments == {"q": "x"}


def test_entries_from_older_files_fill_defaults() -> None:
    entry = HistoryEntry.from_dict({"kind": "lm", "call_id": "abc", "cost_usd": None})
    assert (entry.root_id, entry.cost_known, entry.cache, entry.usage) == (
        "abc",
        False,
        "off",
        Usage(),
    )
