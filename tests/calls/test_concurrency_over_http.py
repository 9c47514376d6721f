"""Many calls at once over real HTTP, with the disk cache and the JSONL and SQLite histories
on: ``Parallel(32)``, 64 concurrent ``acall``s, and several processes sharing the same files.
A quarter of the questions fail. Nothing is lost, duplicated or crossed between callers, no
"database is locked" escapes, the cache holds exactly the answers, never a failure, and the
budget holds nothing once all is done."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import warnings
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from provider_faults import FaultServer, Received, chat_body, echo, respond, slow

import lmbench
from lmbench.calls import budget
from lmbench.lm.cache import get_cache, reset_cache
from lmbench.observe import CompositeCollector, JSONLCollector, MemoryCollector, SQLiteCollector
from lmbench.observe.jsonl import read_jsonl
from lmbench.observe.sqlite import read_sqlite

WORKER = Path(__file__).with_name("http_worker.py")
_ITEM = re.compile(r"item-(\d+)( from \w+)?")


def _answer(received: Received) -> Any:
    """The question's own words back, after a short wait; every fourth item is refused."""
    match = _ITEM.search(json.dumps(received.body))
    assert match is not None
    if int(match.group(1)) % 4 == 3:
        return respond(400, {"error": {"message": f"refused {match.group(0)}"}})
    text = f"[[ ## answer ## ]]\n{match.group(0)}\n\n[[ ## completed ## ]]"
    return slow(0.01, respond(200, chat_body(text, model="gpt-4o-mini", prompt_tokens=30)))


class Books(NamedTuple):
    memory: MemoryCollector
    history: CompositeCollector
    folder: Path


@pytest.fixture
def books(tmp_path: Path) -> Iterator[Books]:
    """A disk cache and a history written to memory, JSONL and SQLite at once, in ``tmp_path``."""
    reset_cache(tmp_path / "cache")
    memory = MemoryCollector()
    files = [JSONLCollector(tmp_path / "h.jsonl"), SQLiteCollector(tmp_path / "h.db")]
    history = CompositeCollector([memory, *files])
    try:
        yield Books(memory, history, tmp_path)
    finally:
        history.close()
        reset_cache(None)


def _questions(count: int) -> list[str]:
    return [f"item-{i}" for i in range(count)]


def _check_books(books: Books, questions: list[str], answers: list[Any]) -> None:
    for question, answer in zip(questions, answers, strict=True):
        refused = int(question.split("-")[1]) % 4 == 3
        assert answer == (None if refused else question)  # nothing crossed between callers
    entries = books.memory.entries()
    lm_entries = [e for e in entries if e.kind == "lm"]
    assert len(lm_entries) == len(questions)
    ids = [e.call_id for e in entries]
    assert len(ids) == len(set(ids))
    for reread in (read_jsonl(books.folder / "h.jsonl"), read_sqlite(books.folder / "h.db")):
        assert sorted(e.call_id for e in reread) == sorted(ids)
    failed = [e for e in lm_entries if e.error]
    assert len(failed) == len(questions) // 4 and all("refused" in (e.error or "") for e in failed)


def _cache_holds_only_answers(
    server: FaultServer, qa: lmbench.Predict, questions: list[str]
) -> None:
    """Asked again, every answer comes from the cache and every failure is sent again."""
    sent = server.count
    again = lmbench.Parallel(num_threads=8, max_errors=len(questions))(
        [(qa, {"question": q}) for q in questions]
    )
    assert server.count - sent == len(questions) // 4
    answered = [r for r in again if r is not None]
    assert all(r.lm_calls[0].cache_state in ("memory", "disk") for r in answered)


def test_parallel_32_with_disk_cache_and_file_histories(server: FaultServer, books: Books) -> None:
    server.default = echo(_answer)
    lm = lmbench.resolve_lm("openai/gpt-4o-mini", base_url=server.url, api_key="sk-0123456789abc")
    qa = lmbench.Predict("question -> answer", lm=lm, config={"max_tokens": 40})
    questions = _questions(96)
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with lmbench.context(history=books.history), budget(usd=5.0) as spent:
            results = lmbench.Parallel(num_threads=32, max_errors=96)(
                [(qa, {"question": q}) for q in questions]
            )
        # lmbench reports trouble (a locked or damaged file, an entry not recorded) this way
        assert not [str(w.message) for w in seen if issubclass(w.category, RuntimeWarning)]
    _check_books(books, questions, [None if r is None else r.answer for r in results])
    assert spent.reserved_usd == 0.0 and spent.in_flight == 0 and spent.calls == 72
    assert get_cache().stats().writes == 72
    _cache_holds_only_answers(server, qa, questions)


async def test_64_concurrent_acalls_with_disk_cache_and_file_histories(
    server: FaultServer, books: Books
) -> None:
    server.default = echo(_answer)
    lm = lmbench.resolve_lm("openai/gpt-4o-mini", base_url=server.url, api_key="sk-0123456789abc")
    qa = lmbench.Predict("question -> answer", lm=lm, config={"max_tokens": 40})
    questions = _questions(64)
    with lmbench.context(history=books.history), budget(usd=5.0) as spent:
        results = await asyncio.gather(
            *(qa.acall(question=q) for q in questions), return_exceptions=True
        )
    answers = [None if isinstance(r, Exception) else r.answer for r in results]
    _check_books(books, questions, answers)
    assert spent.reserved_usd == 0.0 and spent.in_flight == 0 and spent.calls == 48
    await lm.aclose()


@pytest.mark.slow
def test_processes_share_the_cache_and_both_histories(server: FaultServer, tmp_path: Path) -> None:
    server.default = echo(_answer)
    files = [str(tmp_path / name) for name in ("cache", "h.jsonl", "h.db")]
    tags = ["alpha", "beta", "gamma"]
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), server.url, *files, tag],
            stdout=subprocess.PIPE,
            text=True,
        )
        for tag in tags
    ]
    outputs = [json.loads(worker.communicate(timeout=120)[0]) for worker in workers]
    for tag, output in zip(tags, outputs, strict=True):
        assert not [w for w in output["warnings"] if "locked" in w or "damaged" in w]
        expected = [None if i % 4 == 3 else f"item-{i} from {tag}" for i in range(30)]
        assert output["answers"] == expected
    for entries in (read_jsonl(tmp_path / "h.jsonl"), read_sqlite(tmp_path / "h.db")):
        kinds = Counter(e.kind for e in entries)  # a Predict and an LM call an item, and
        assert kinds == {"lm": 90, "module": 90 + 3}  # each process's Parallel: none lost
        assert len({e.call_id for e in entries}) == len(entries)  # or written twice
    assert server.count == 90
    # another process asking alpha's questions again: the shared cache answers all but the
    # refused ones, which were never stored
    again = subprocess.run(
        [sys.executable, str(WORKER), server.url, *files, "alpha"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert json.loads(again.stdout)["answers"] == outputs[0]["answers"]
    assert server.count == 90 + 30 // 4
