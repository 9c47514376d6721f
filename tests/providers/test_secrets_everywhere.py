"""A key used for real calls is found nowhere a user could see or keep it.

One sentinel key drives a program through success, a retried 429, an error whose body quotes
the key, and a stream, with raw exchanges saved, history in JSONL and SQLite, and the disk
cache on. Then every repr, rendered view, log record, exception, history file, cache file and
saved program is searched for it.
"""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest
from provider_faults import FaultServer, chat_body, chat_events, respond, sse

import lmbench
from lmbench.errors import ProviderError
from lmbench.lm.cache import reset_cache
from lmbench.observe.collectors import CompositeCollector, MemoryCollector
from lmbench.observe.jsonl import JSONLCollector
from lmbench.observe.sqlite import SQLiteCollector
from lmbench.providers.retry import RetryPolicy

SENTINEL = "sk-SENTINEL-everywhere-9876543210zyxwvu"
ANSWER = "[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]"


def _quote_key(handler) -> None:  # type: ignore[no-untyped-def]
    key = handler.headers.get("authorization", "")
    respond(401, {"error": {"message": f"bad key {key}"}}, {"x-echo": key})(handler)


def _files_text(folder: Path) -> str:
    return "".join(p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file())


def test_the_key_appears_nowhere(
    server: FaultServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cache_dir = tmp_path / "cache"
    reset_cache(cache_dir)
    memory = MemoryCollector()
    history = CompositeCollector(
        [memory, JSONLCollector(tmp_path / "h.jsonl"), SQLiteCollector(tmp_path / "h.db")]
    )
    lm = lmbench.resolve_lm(
        "openai/gpt-4o-mini",
        api_key=SENTINEL,
        base_url=server.url,
        retry=RetryPolicy(initial_delay=0.001, jitter=0.0),
    )
    qa = lmbench.Predict("question -> answer", lm=lm, adapter="chat")
    seen: list[str] = []
    server.script(
        respond(200, chat_body(ANSWER)),
        respond(429, {"error": {"message": "slow down"}}, {"retry-after-ms": "1"}),
        respond(200, chat_body(ANSWER)),
        _quote_key,
        sse(chat_events("[[ ## answer ## ]]\nPar", "is\n\n[[ ## completed ## ]]")),
    )
    try:
        with lmbench.context(history=history, save_raw=True, cache=True):
            first = qa(question="capital of France?")  # success, written to the disk cache
            retried = qa(question="capital of Italy?")  # 429, then success
            with pytest.raises(ProviderError) as failure:
                qa(question="capital of Spain?")  # 401 whose body quotes the key
            streamed = list(qa.stream(question="capital of Peru?", config={"cache": False}))
            lmbench.history.inspect(5, file=(inspected := io.StringIO()))
        seen += [repr(x) for x in (first, retried, streamed, lm, qa, failure.value)]
        seen += [str(failure.value), json.dumps(first.trace, default=str)]
        seen += [first._repr_html_(), retried._repr_html_(), inspected.getvalue()]
        seen += [json.dumps(e.to_dict(), default=str) for e in memory.entries()]
        seen += [record.getMessage() + str(record.args) for record in caplog.records]
        qa.save(tmp_path / "program.json")
        seen.append(_files_text(tmp_path))
    finally:
        reset_cache(None)
    assert retried.answer == "Paris" and first.answer == "Paris"
    assert failure.value.status == 401
    assert [e.kind for e in memory.entries()].count("lm") == 4
    assert server.count == 5
    assert any(SENTINEL[:8] in text for text in seen) is False
    hits = [text[:200] for text in seen if SENTINEL in text]
    assert hits == []
