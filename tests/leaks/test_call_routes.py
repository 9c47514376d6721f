"""A key given through each route never shows up in anything a real call produces.

Each route (environment variable, ``api_key=``, ``Secret``, gateway header, header marked
secret, key in the base URL's userinfo or query string, key in a proxy URL given or from the
environment, key in ``configure``) sets a distinctive key; a program then makes real calls to
a loopback server that echoes every request back (in answers, streams, error bodies, HTML
error pages and response headers) through success, retry, error, timeout, stream, cache
hit, replay recording and playback, with raw capture, JSONL and SQLite history, the disk
cache, callbacks, spans and DEBUG logs of every logger on. Then every repr, str, log record,
exception (with its chain), warning, history entry, file, pickle, saved program, Dask task
payload and rendered view is searched for the key and for its first or last 8 characters.
"""

from __future__ import annotations

import asyncio
import io
import json
import warnings
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from leak_scan import (
    KEYS,
    Traces,
    chat_echo,
    error_echo,
    html_echo,
    stream_echo,
    stream_garbage_echo,
    text_echo,
    wire_error_echo,
)
from provider_faults import FaultServer, chat_events, slow, sse

import lmbench
from lmbench.calls.callbacks import Callback, CallbackEvent
from lmbench.errors import ProviderError, ProviderTimeout
from lmbench.lm.cache import get_cache
from lmbench.notebook.render import html_for
from lmbench.observe.history import CallHistory
from lmbench.providers.retry import RetryPolicy
from lmbench.secrets import Secret

OTHER = "not-the-key-under-test"  # where the route needs an API key as well
FAST = RetryPolicy(initial_delay=0.001, jitter=0.0)

Route = Callable[[FaultServer, pytest.MonkeyPatch], Any]


def _lm(server: FaultServer, **options: Any) -> Any:
    options.setdefault("base_url", f"{server.url}/v1")
    return lmbench.resolve_lm("openai/gpt-4o-mini", retry=FAST, timeout=0.5, **options)


def _env(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("OPENAI_API_KEY", KEYS["env"])
    monkeypatch.setenv("OPENAI_BASE_URL", f"{server.url}/v1")
    return lmbench.resolve_lm("openai/gpt-4o-mini", retry=FAST, timeout=0.5)


def _api_key(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    return _lm(server, api_key=KEYS["api_key"])


def _secret(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    return _lm(server, api_key=Secret(KEYS["secret"], source="vault"))


def _gateway_header(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    return _lm(server, headers={"cf-aig-authorization": f"Bearer {KEYS['gateway_header']}"})


def _marked_header(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    return _lm(server, headers={"x-tenant": Secret(KEYS["marked_header"])})


def _userinfo(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    return _lm(server, base_url=f"http://user:{KEYS['userinfo']}@127.0.0.1:{server.port}/v1")


def _query(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    return _lm(server, base_url=f"{server.url}/v1?key={KEYS['query']}")


def _proxy(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    proxy = f"http://user:{KEYS['proxy']}@127.0.0.1:{server.port}"
    clients = {
        "http_client": httpx.Client(proxy=proxy),
        "async_http_client": httpx.AsyncClient(proxy=proxy),
    }
    return _lm(server, base_url="http://models.invalid/v1", api_key=OTHER, **clients)


def _proxy_env(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://user:{KEYS['proxy_env']}@127.0.0.1:{server.port}")
    return _lm(server, base_url="http://models.invalid/v1", api_key=OTHER)


def _configure(server: FaultServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    lmbench.configure(lm=_lm(server, api_key=KEYS["configure"]), temperature=0.0)
    return None  # the program uses the configured LM


ROUTES: dict[str, Route] = {
    "env": _env,
    "api_key": _api_key,
    "secret": _secret,
    "gateway_header": _gateway_header,
    "marked_header": _marked_header,
    "userinfo": _userinfo,
    "query": _query,
    "proxy": _proxy,
    "proxy_env": _proxy_env,
    "configure": _configure,
}


class _Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[CallbackEvent] = []

    def on_lm_start(self, event: CallbackEvent) -> None:
        self.events.append(event)

    def on_lm_end(self, event: CallbackEvent) -> None:
        self.events.append(event)

    def on_module_end(self, event: CallbackEvent) -> None:
        self.events.append(event)


async def _astream(program: Any, question: str) -> list[Any]:
    return [item async for item in program.astream(question=question, config={"cache": False})]


def _drive(lm: Any, traces: Traces, server: FaultServer) -> None:
    """Every path a call can take, each result collected for the scan."""
    found = traces.artifacts
    recorder = _Recorder()
    qa = lmbench.Predict("question -> answer", lm=lm, adapter="chat")
    server.script(
        chat_echo,  # success, cached
        error_echo(429),  # retried...
        chat_echo,  # ... then success
        error_echo(401),  # refused, the key quoted in the body and a header
        html_echo(502),  # a gateway's HTML page, retried ...
        html_echo(502),
        html_echo(502),  # ... until the retries run out
        slow(2.0, chat_echo),  # timeout ...
        slow(2.0, chat_echo),
        slow(2.0, chat_echo),
        text_echo,  # a body that is not JSON
        wire_error_echo,  # an error inside a 200
        stream_echo,  # a stream
        stream_echo,  # an async stream
        stream_garbage_echo,  # a stream with a broken event
        sse(chat_events("Par"), cut_after=1),  # a stream cut short
        chat_echo,  # recorded for replay
    )
    with (
        lmbench.context(
            history=traces.history,
            save_raw=True,
            cache=True,
            callbacks=[recorder],
            retry_budget=None,
        ),
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        first = qa(question="capital of France?")
        again = qa(question="capital of France?")  # a cache hit
        retried = qa(question="capital of Italy?")
        for question in ("refused?", "gateway?", "timeout?", "not json?", "inner error?"):
            with pytest.raises(ProviderError) as failure:
                qa(question=question)
            found.add_error(f"error {question}", failure.value)
            found.add("error html", html_for(failure.value) or "")
            if question == "timeout?":
                assert isinstance(failure.value, ProviderTimeout)
        streamed = list(qa.stream(question="capital of Peru?", config={"cache": False}))
        streamed += asyncio.run(_astream(qa, "capital of Chile?"))
        for question in ("broken stream?", "cut stream?"):
            with pytest.raises(ProviderError) as failure:
                list(qa.stream(question=question, config={"cache": False}))
            found.add_error(f"error {question}", failure.value)
        replay_file = traces.folder / "replay.jsonl"
        with lmbench.replay.record(replay_file):
            recorded = qa(question="capital of Chile?", config={"cache": False})
        with lmbench.replay.play(replay_file):
            replayed = qa(question="capital of Chile?", config={"cache": False})
        lmbench.history.inspect(20, file=(inspected := io.StringIO()))
    traces.history.close()
    assert first.answer.startswith("Paris") and again.answer == first.answer
    assert "[redacted]" in first.answer  # the server did quote the key: it was taken out
    assert retried.answer.startswith("Paris") and replayed.answer == recorded.answer

    predictions = [first, again, retried, recorded, replayed]
    for prediction in predictions:
        found.add_all(
            "prediction",
            [repr(prediction), str(prediction), prediction._repr_html_(), prediction.answer],
        )
        found.add("trace", json.dumps(prediction.trace, default=str))
        found.add_pickles("prediction", prediction)
    found.add_all("stream", [repr(streamed), streamed[-1]._repr_html_()])
    found.add_all("warnings", [str(w.message) for w in caught])
    found.add_all("callbacks", [repr(e) for e in recorder.events])
    found.add("inspect", inspected.getvalue())
    found.add_all("memory cache", [repr(v) for v in get_cache()._memory._data.values()])
    for entry in traces.memory.entries():
        found.add_all("entry", [repr(entry), json.dumps(entry.to_dict(), default=str)])
        found.add("entry html", entry._repr_html_())
        found.add_pickles("entry", entry)
    for history in (
        CallHistory(traces.memory),
        lmbench.load_history(traces.folder / "h.jsonl"),
        lmbench.load_history(traces.folder / "h.db"),
    ):
        found.add_all("history", [history.frame("all").to_csv(), history._repr_html_()])
    found.add_all("lm", [repr(lm), str(lm), repr(qa), repr(lmbench.settings.current())])
    found.add("program state", json.dumps(qa.dump_state(), default=str))
    qa.save(traces.folder / "program.json")
    found.add_files(traces.folder)
    found.add_logs(traces.logs.records)
    found.add("log text", traces.logs.text)


@pytest.mark.parametrize("route", list(ROUTES))
def test_a_key_from_each_route_shows_nowhere(
    route: str, server: FaultServer, traces: Traces, monkeypatch: pytest.MonkeyPatch
) -> None:
    lm = ROUTES[route](server, monkeypatch)
    _drive(lm, traces, server)
    received = "\n".join(f"{r.path} {r.headers}" for r in server.received)
    assert KEYS[route] in received or route in ("userinfo", "proxy", "proxy_env")  # it was sent
    leaks = traces.artifacts.leaks([KEYS[route]])
    assert leaks == [], "\n".join(map(repr, leaks))
