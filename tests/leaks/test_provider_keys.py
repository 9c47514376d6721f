"""Each built-in provider's key variable, sent in its own auth header and wire format, and
echoed back by the server in answers and errors, sync and async: found nowhere after."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from leak_scan import Traces, echoed, error_echo
from provider_faults import FaultServer, respond

import lmbench
from lmbench.errors import ProviderError
from lmbench.providers.retry import RetryPolicy
from lmbench.providers.services import SERVICES

FAST = RetryPolicy(initial_delay=0.001, jitter=0.0)
REMOTE = sorted(name for name, service in SERVICES.items() if service.key_env)


def _answer(path: str, text: str) -> dict[str, Any]:
    """A success body in the wire format the request's path belongs to."""
    if path.endswith("/v1/messages"):
        return {
            "id": "msg",
            "type": "message",
            "model": "m",
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    if ":generateContent" in path:
        return {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP"}
            ],
            "usageMetadata": {"promptTokenCount": 1, "candidatesTokenCount": 1},
        }
    if path.endswith("/v2/chat"):
        return {
            "id": "c",
            "message": {"role": "assistant", "content": [{"type": "text", "text": text}]},
            "finish_reason": "COMPLETE",
            "usage": {"tokens": {"input_tokens": 1, "output_tokens": 1}},
        }
    if path.endswith("/api/chat"):
        return {
            "model": "m",
            "message": {"role": "assistant", "content": text},
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 1,
            "eval_count": 1,
        }
    return {
        "id": "x",
        "model": "m",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1},
    }


def _echo_answer(handler: Any) -> None:
    text = f"[[ ## answer ## ]]\nParis ({echoed(handler)})\n\n[[ ## completed ## ]]"
    respond(200, _answer(handler.path, text), {"x-echo": echoed(handler)})(handler)


def _key(provider: str) -> str:
    return f"Zprov{provider.replace('-', '')[:6]}Key0x9Q7w3E5r1T"


@pytest.mark.parametrize("provider", REMOTE)
def test_each_providers_key_variable_shows_nowhere(
    provider: str, server: FaultServer, traces: Traces, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = SERVICES[provider]
    key = _key(provider)
    for name in service.key_env:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(service.key_env[-1], key)  # the last of the names: all are read
    path = urlsplit(service.base_url or "http://x/v1").path
    lm = lmbench.resolve_lm(f"{provider}/m", base_url=server.url + path, retry=FAST)
    qa = lmbench.Predict("question -> answer", lm=lm, adapter="chat")
    server.script(_echo_answer, error_echo(500), _echo_answer, error_echo(403), _echo_answer)
    found = traces.artifacts
    with lmbench.context(history=traces.history, save_raw=True, retry_budget=None):
        first = qa(question="q1")
        retried = qa(question="q2")
        with pytest.raises(ProviderError) as failure:
            qa(question="q3")
        in_async = asyncio.run(qa.acall(question="q4"))
    traces.history.close()
    assert first.answer.startswith("Paris") and retried.answer.startswith("Paris")
    assert in_async.answer.startswith("Paris")
    assert key in json.dumps(server.received[0].headers)  # sent in the provider's header
    found.add_error("error", failure.value)
    for prediction in (first, retried, in_async):
        found.add_all("prediction", [repr(prediction), prediction._repr_html_()])
    found.add_all("entries", [json.dumps(e.to_dict()) for e in traces.memory.entries()])
    found.add_all("lm", [repr(lm), repr(lm.provider_config)])
    found.add_files(traces.folder)
    found.add_logs(traces.logs.records)
    leaks = found.leaks([key])
    assert leaks == [], "\n".join(map(repr, leaks))


def test_a_gemini_key_in_the_query_string_stays_out_of_every_url(
    server: FaultServer, traces: Traces
) -> None:
    """Gemini takes its key as ``?key=``: the request goes with it, nothing shows it."""
    key = "ZgemQueryKey5t7y9u1i3o"
    lm = lmbench.resolve_lm(
        "gemini/gemini-2.0-flash", base_url=f"{server.url}/v1beta?key={key}", retry=FAST
    )
    server.script(_echo_answer, error_echo(404))
    qa = lmbench.Predict("question -> answer", lm=lm, adapter="chat")
    with lmbench.context(history=traces.history, save_raw=True):
        prediction = qa(question="q")
        with pytest.raises(ProviderError) as failure:
            qa(question="q2")
    traces.history.close()
    assert server.received[0].path == f"/v1beta/models/gemini-2.0-flash:generateContent?key={key}"
    found = traces.artifacts
    found.add_error("error", failure.value)
    found.add_all("shown", [repr(lm), repr(prediction), prediction._repr_html_()])
    found.add_files(traces.folder)
    found.add_logs(traces.logs.records)
    assert found.leaks([key]) == []
    raw = traces.memory.entries()[0].to_dict()["raw"]
    assert raw["request"]["url"].endswith("generateContent?key=[redacted]")
