"""A child process forked while another thread of the parent writes history, or reads the
response cache, works on: locks and connections are renewed in the child (``lmbench.forked``),
never inherited held by a thread that does not exist there."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import pytest

from lmbench.calls import lm_call
from lmbench.lm import LMRequest, Message, ScriptedLM
from lmbench.observe import Collector, JSONLCollector, SQLiteCollector
from lmbench.settings import configure

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _one_call(collector: Collector, question: str) -> None:
    configure(history=collector)
    with lm_call(ScriptedLM(["answer"]), LMRequest((Message("user", question),))) as call:
        call.run()


@pytest.mark.parametrize("kind", ["jsonl", "sqlite"])
def test_a_child_forked_mid_write_writes_its_own_entries(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"h.{kind}"
    collector = JSONLCollector(path) if kind == "jsonl" else SQLiteCollector(path)
    _one_call(collector, "parent")
    writing, done = threading.Event(), threading.Event()

    def writer_mid_write() -> None:  # a thread of the parent inside the collector's lock
        with collector._lock:
            writing.set()
            done.wait(10)

    thread = threading.Thread(target=writer_mid_write)
    thread.start()
    writing.wait(5)
    child = multiprocessing.get_context("fork").Process(target=_one_call, args=(collector, "child"))
    child.start()
    child.join(timeout=20)  # without renewed locks the child waits forever on the inherited one
    done.set()
    thread.join()
    stuck = child.exitcode is None
    if stuck:
        child.kill()
    assert not stuck and child.exitcode == 0
    reader = JSONLCollector(path) if kind == "jsonl" else SQLiteCollector(path)
    questions = sorted(e.request.messages[-1].text for e in reader.entries())
    assert questions == ["child", "parent"]


def _cached_call(question: str) -> None:
    with lm_call(
        ScriptedLM(["answer"]), LMRequest((Message("user", question),)), cache=True
    ) as call:
        call.run()


def test_a_child_forked_while_the_response_cache_is_busy_calls_on(tmp_path: Path) -> None:
    from lmbench.lm.cache import get_cache, reset_cache

    reset_cache(tmp_path / "cache")
    _cached_call("parent")
    busy, done = threading.Event(), threading.Event()

    def reader_mid_lookup() -> None:  # a thread of the parent inside the memory level's lock
        with get_cache()._memory._lock:
            busy.set()
            done.wait(10)

    thread = threading.Thread(target=reader_mid_lookup)
    thread.start()
    busy.wait(5)
    child = multiprocessing.get_context("fork").Process(target=_cached_call, args=("child",))
    child.start()
    child.join(timeout=20)
    done.set()
    thread.join()
    stuck = child.exitcode is None
    if stuck:
        child.kill()
    reset_cache(None)
    assert not stuck and child.exitcode == 0
