"""Beyond one call: spans, evaluation results and comparisons, settings, logged exceptions,
Dask task payloads and the code sandbox never carry a key."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from chat_answers import chat_answer
from leak_scan import KEYS, Traces, chat_echo, echoed, error_echo, html_echo
from provider_faults import FaultServer, chat_body, respond, sse

import lmbench
from lmbench import metrics
from lmbench.errors import ProviderError
from lmbench.logs import get_logger
from lmbench.providers.retry import RetryPolicy
from lmbench.secrets import Secret

FAST = RetryPolicy(initial_delay=0.001, jitter=0.0)
EVERY = [KEYS["api_key"], KEYS["userinfo"], KEYS["query"], KEYS["gateway_header"]]


def _keyed_lm(url: str, **options: Any) -> Any:
    """An LM holding keys four ways: ``api_key=``, userinfo, query string, gateway header."""
    host = url.removeprefix("http://")
    return lmbench.resolve_lm(
        "openai/gpt-4o-mini",
        api_key=KEYS["api_key"],
        base_url=f"http://u:{KEYS['userinfo']}@{host}/v1?key={KEYS['query']}",
        headers={"cf-aig-authorization": KEYS["gateway_header"], "x-mark": Secret("ZmarkedX9")},
        retry=FAST,
        **options,
    )


def test_spans_carry_no_key(server: FaultServer, traces: Traces) -> None:
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
    qa = lmbench.Predict("question -> answer", lm=_keyed_lm(server.url), adapter="chat")
    server.script(chat_echo, error_echo(401))
    try:
        with lmbench.context(history=traces.history, cache=False):
            qa(question="q")
            with pytest.raises(ProviderError):
                qa(question="q2")
        spans = exporter.get_finished_spans()
    finally:
        exporter.shutdown()
    assert len(spans) >= 4 and any(s.status.description for s in spans)
    traces.artifacts.add_all("span", [span.to_json() for span in spans])
    assert traces.artifacts.leaks(EVERY) == []


def test_evaluation_results_and_comparisons_carry_no_key(
    server: FaultServer, traces: Traces
) -> None:
    server.default = chat_echo
    data = [{"question": f"q{i}", "answer": "Paris"} for i in range(3)]
    plain = lmbench.Predict("question -> answer", lm=_keyed_lm(server.url), adapter="chat")
    thinking = lmbench.ChainOfThought("question -> answer", lm=_keyed_lm(server.url))
    with lmbench.context(history=traces.history, cache=False):
        result = lmbench.evaluate(plain, data, metrics.exact_match, threads=2, progress=False)
        comparison = lmbench.compare(
            {"plain": plain, "cot": thinking}, data, metrics.exact_match, progress=False
        )
    found = traces.artifacts
    found.add_all("result", [repr(result), result._repr_html_(), result.frame().to_csv()])
    found.add_all("rows", [repr(row) for row in result.rows])
    found.add_all("comparison", [repr(comparison), comparison._repr_html_()])
    found.add("comparison table", json.dumps(comparison.table_rows(), default=str))
    found.add_all("compared", [r.frame().to_csv() for r in comparison.results.values()])
    found.add_files(traces.folder)
    assert len(server.received) >= 9
    assert found.leaks(EVERY) == []


def test_embedding_calls_carry_no_key(server: FaultServer, traces: Traces) -> None:
    from lmbench.retrieval import Embedder

    def vectors(handler: Any) -> None:
        body = {"data": [{"index": 0, "embedding": [0.1, 0.2]}], "usage": {"prompt_tokens": 2}}
        respond(200, body, {"x-echo": echoed(handler)})(handler)

    host = server.url.removeprefix("http://")
    embedder = Embedder(
        "openai/tiny-embed",
        base_url=f"http://u:{KEYS['userinfo']}@{host}/v1?key={KEYS['query']}",
        api_key=KEYS["api_key"],
        show_progress=False,
    )
    server.script(vectors, error_echo(401), html_echo(403))
    found = traces.artifacts
    with lmbench.context(history=traces.history, save_raw=True, cache=False):
        embedder(["hello"])
        for text in ("refused", "gateway"):
            with pytest.raises(ProviderError) as failure:
                embedder([text])
            found.add_error("embedding error", failure.value)
    traces.history.close()
    found.add_all("embedder", [repr(embedder), repr(embedder.model)])
    found.add_all(
        "entries", [json.dumps(e.to_dict(), default=str) for e in traces.memory.entries()]
    )
    found.add_files(traces.folder)
    found.add_logs(traces.logs.records)
    assert found.leaks([KEYS["api_key"], KEYS["userinfo"], KEYS["query"]]) == []


def test_settings_and_their_echo_carry_no_key(server: FaultServer) -> None:
    lm = _keyed_lm(server.url)
    settings = lmbench.configure(lm=lm, extra={"api_key": KEYS["configure"], "team": "a"})
    shown = [repr(settings), str(settings), repr(lmbench.settings.current())]
    from lmbench.notebook.lmbench_magic import run_lmbench
    from lmbench.notebook.render import html_for, text_for

    panel = run_lmbench("config")
    shown += [html_for(panel) or "", text_for(panel) or ""]
    found = [text for text in shown if any(k in text for k in [*EVERY, KEYS["configure"]])]
    assert found == []
    assert "team" in repr(settings)  # the rest is shown


def test_logged_exceptions_and_their_chains_carry_no_key(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = Secret(KEYS["secret"])
    try:
        try:
            raise OSError(f"proxy refused credentials {secret.reveal()}")
        except OSError as cause:
            raise RuntimeError(f"wrapped: {secret.reveal()}") from cause
    except RuntimeError:
        get_logger("lmbench.providers").exception("call failed with %s", secret.reveal())
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert "call failed with [redacted]" in text and "wrapped: [redacted]" in text
    assert KEYS["secret"] not in text and "[redacted]" in text


def test_dask_task_payloads_carry_no_key(server: FaultServer) -> None:
    pytest.importorskip("cloudpickle")
    from lmbench.evaluate.executors.transport import pack_task
    from lmbench.evaluate.rows import RowTask

    program = lmbench.ChainOfThought(
        "question -> answer",
        lm=_keyed_lm(server.url),
        demos=[{"question": "q", "reasoning": "r", "answer": "a"}],
    )
    judge = metrics.judge(lm=_keyed_lm(server.url))
    with lmbench.context(lm=_keyed_lm(server.url), temperature=0.2):
        payload = pack_task(RowTask(program, judge, {}, "cot", "judge"))
    text = payload.decode("latin-1")
    assert "127.0.0.1" in text  # the LM travels by name and address ...
    assert [k for k in [*EVERY, "ZmarkedX9"] if k in text] == []  # ... never with a key


def test_sandboxed_code_reads_no_key_from_the_environment_or_its_messages(
    sandbox: Any, server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmbench.sandbox.process import WorkerProcess

    monkeypatch.setenv("OPENAI_API_KEY", KEYS["env"])
    sent: list[str] = []
    original = WorkerProcess.send

    def spy(self: WorkerProcess, message: dict[str, Any]) -> None:
        sent.append(json.dumps(message))
        original(self, message)

    monkeypatch.setattr(WorkerProcess, "send", spy)
    result = sandbox.run(
        "import os, sys\n"
        "found = dict(os.environ)\n"
        "try:\n"
        "    found['proc'] = open('/proc/self/environ').read()\n"
        "except Exception as exc:\n"
        "    found['proc'] = repr(exc)\n"
        "print(found, sys.argv)\n"
    )
    shown = [result.stdout, result.error or "", repr(result), *sent]
    assert sent and [text for text in shown if KEYS["env"] in text] == []

    def code_quoting_the_request(handler: Any) -> None:  # a server writing the key into code
        code = f"print({echoed(handler)!r})"
        text = chat_answer(reasoning="r", generated_code=f"```python\n{code}\n```")
        respond(200, chat_body(text))(handler)

    server.script(
        code_quoting_the_request, respond(200, chat_body(chat_answer(reasoning="r", answer="done")))
    )
    program = lmbench.ProgramOfThought(
        "question -> answer", sandbox=sandbox, lm=_keyed_lm(server.url), max_iters=1
    )
    with lmbench.context(cache=False):
        prediction = program(question="q")
    assert prediction.answer == "done" and "Authorization" in prediction.code
    shown = [*sent, prediction.code, prediction.code_output, repr(prediction)]
    assert [k for k in EVERY for text in shown if k in text] == []


def test_a_remote_lm_refuses_to_be_pickled_and_says_what_to_do(server: FaultServer) -> None:
    import pickle

    import cloudpickle

    lm = _keyed_lm(server.url)
    for dumps in (pickle.dumps, cloudpickle.dumps):
        with pytest.raises(TypeError, match=r"resolve_lm\('openai/gpt-4o-mini'\)") as refused:
            dumps(lm)
        assert [k for k in EVERY if k in str(refused.value)] == []


def test_an_lm_keeps_a_url_key_out_of_its_attributes(server: FaultServer) -> None:
    lm = _keyed_lm(server.url)
    seen = [repr(vars(lm)), repr(vars(lm.provider_config)), lm.base_url, repr(lm.endpoint())]
    assert lm.base_url == f"{server.url}/v1"
    assert [k for k in EVERY for text in seen if k in text] == []


def test_reasoning_that_quotes_the_key_is_kept_out(server: FaultServer, traces: Traces) -> None:
    """A reasoning model's thinking (``reasoning_content``) that quotes the request, whole
    and streamed in pieces."""

    def thinking(handler: Any) -> None:
        body = chat_body(chat_answer(answer="Paris"))
        body["choices"][0]["message"]["reasoning_content"] = f"They sent {echoed(handler)}"
        respond(200, body)(handler)

    def streamed_thinking(handler: Any) -> None:
        quoted = f"They sent {echoed(handler)}"
        deltas = [{"reasoning_content": quoted[i : i + 5]} for i in range(0, len(quoted), 5)]
        deltas.append({"content": chat_answer(answer="Paris")})
        sse_events = [
            f"data: {json.dumps({'choices': [{'index': 0, 'delta': d}]})}\n\n" for d in deltas
        ]
        done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        sse([*sse_events, f"data: {json.dumps(done)}\n\n", "data: [DONE]\n\n"])(handler)

    server.script(thinking, streamed_thinking)
    qa = lmbench.Predict("question -> answer", lm=_keyed_lm(server.url), adapter="chat")
    with lmbench.context(history=traces.history, cache=False, save_raw=True):
        whole = qa(question="q")
        pieces = list(qa.stream(question="q2"))
    traces.history.close()
    found = traces.artifacts
    found.add_all("predictions", [repr(whole), whole._repr_html_(), repr(pieces)])
    found.add_all(
        "entries", [json.dumps(e.to_dict(), default=str) for e in traces.memory.entries()]
    )
    found.add_all(
        "reasoning", [repr(e.metadata) + repr(e.response) for e in traces.memory.entries()]
    )
    found.add_files(traces.folder)
    assert any("They sent" in text for text in found.texts.values())
    assert found.leaks(EVERY) == []


def test_a_key_behind_json_escapes_is_still_found(server: FaultServer) -> None:
    """Some servers write ``/`` as ``\\/`` and characters as ``\\u00XX`` in JSON: the key's
    bytes are then not in the body, but they are in the answer."""
    key = "Zslash/Key+9Qw3Er5Ty<7"
    text = chat_answer(answer=f"Paris, said {key}")
    escaped = json.dumps(chat_body(text)).replace("/", "\\/").replace("<", "\\u003c")
    assert key.encode() not in escaped.encode()
    server.script(respond(200, escaped, {"content-type": "application/json"}))
    lm = lmbench.resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1", api_key=key)
    prediction = lmbench.Predict("question -> answer", lm=lm, adapter="chat")(question="q")
    assert prediction.answer == "Paris, said [redacted]"
