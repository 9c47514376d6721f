"""JSONL history: concurrent writers in threads and processes, rotation, corrupted lines."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lmbench.calls import lm_call, module_call
from lmbench.lm import LMRequest, Message, ScriptedLM
from lmbench.observe import JSONLCollector, history, load_history
from lmbench.settings import context

WRITER = Path(__file__).with_name("writer.py")
CALLS_PER_THREAD = 40


def _run_writers(kind: str, path: Path, *extra: str) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, str(WRITER), kind, str(path), tag, str(CALLS_PER_THREAD), *extra]
        )
        for tag in ("p0", "p1")
    ]
    for process in processes:
        assert process.wait(timeout=120) == 0


def _expected_prompts() -> set[str]:
    return {
        f"{tag}-{t}-{i}" for tag in ("p0", "p1") for t in range(8) for i in range(CALLS_PER_THREAD)
    }


def _lm_prompts(collector_entries: list) -> list[str]:
    return [e.messages[-1].text for e in collector_entries if e.kind == "lm"]


def test_entries_round_trip_through_a_file(tmp_path: Path) -> None:
    collector = JSONLCollector(tmp_path / "h.jsonl")
    request = LMRequest(messages=(Message("user", "2+2?"),))
    with (
        context(history=collector),
        module_call("Predict", signature="q -> a"),
        lm_call(ScriptedLM(["4"]), request) as call,
    ):
        call.run()
        call.set_parse(adapter="ChatAdapter", diagnostics=[{"message": "m"}])
    written = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text().splitlines()]
    assert [e.to_dict() for e in collector.entries()] == written
    assert [w["kind"] for w in written] == ["lm", "module"]
    collector.close()


def test_two_processes_of_eight_threads_lose_and_tear_nothing(tmp_path: Path) -> None:
    path = tmp_path / "shared.jsonl"
    _run_writers("jsonl", path)
    lines = path.read_text().splitlines()
    assert len(lines) == 2 * 2 * 8 * CALLS_PER_THREAD  # an lm and a module entry a call
    assert all(json.loads(line)["kind"] in ("lm", "module") for line in lines)  # none torn
    prompts = _lm_prompts(load_history(path).entries())
    assert len(prompts) == len(set(prompts))
    assert set(prompts) == _expected_prompts()


def test_rotation_under_concurrent_writers_loses_nothing(tmp_path: Path) -> None:
    path = tmp_path / "rotated.jsonl"
    _run_writers("jsonl", path, "20000")
    files = sorted(tmp_path.glob("rotated.jsonl*"))
    assert len([f for f in files if not f.name.endswith(".lock")]) > 3  # it did rotate
    collector = JSONLCollector(path, backups=1000)
    # a writer in the other process may append one more line to a file just rotated
    assert all(f.stat().st_size < 20000 + 5000 for f in collector.files())
    prompts = _lm_prompts(collector.entries())
    assert sorted(prompts) == sorted(_expected_prompts())
    assert sorted(_lm_prompts(load_history(path).entries())) == sorted(prompts)


def test_rotation_keeps_the_newest_backups(tmp_path: Path) -> None:
    collector = JSONLCollector(tmp_path / "h.jsonl", max_bytes=1500, backups=2)
    lm = ScriptedLM(lambda r: r.messages[-1].text)
    with context(history=collector):
        for i in range(30):
            with lm_call(lm, LMRequest(messages=(Message("user", f"question {i:02d}"),))) as call:
                call.run()
    assert [p.name for p in collector.files()] == ["h.jsonl.2", "h.jsonl.1", "h.jsonl"]
    texts = [e.text for e in collector.entries()]
    assert texts == sorted(texts)  # oldest first, across files
    assert texts[-1] == "question 29"
    assert len(texts) < 30  # the oldest files were dropped past two backups
    collector.close()


def test_a_corrupted_line_warns_and_loses_nothing_else(tmp_path: Path) -> None:
    path = tmp_path / "h.jsonl"
    collector = JSONLCollector(path)
    lm = ScriptedLM(["one", "two", "three"])
    with context(history=collector):
        for _ in range(3):
            with lm_call(lm, LMRequest(messages=(Message("user", "q"),))) as call:
                call.run()
    collector.close()
    first, second, third = path.read_text().splitlines()
    # a torn write (a writer killed mid-line) glued to the next whole line, and garbage
    path.write_text(first + "\n" + second[:37] + third + "\n" + "{not json\n")
    with pytest.warns(RuntimeWarning) as warned:
        texts = [e.text for e in load_history(path).entries()]
    assert texts == ["one", "three"]
    messages = [str(w.message) for w in warned]
    assert any(f"{path} line 2 is corrupted" in m and "kept the whole entry" in m for m in messages)
    assert any(f"{path} line 3 is corrupted" in m and "skipped it" in m for m in messages)


def test_history_reads_the_file_another_process_wrote(tmp_path: Path) -> None:
    path = tmp_path / "other.jsonl"
    script = (
        "from lmbench.lm import LMRequest, Message, ScriptedLM\n"
        "from lmbench.calls import lm_call, module_call\n"
        f"from lmbench.settings import configure\nconfigure(history='jsonl://{path}')\n"
        "with module_call('Predict'), lm_call(ScriptedLM(['from the other process']), "
        "LMRequest(messages=(Message('user', 'q'),))) as c:\n    c.run()\n"
    )
    subprocess.run(
        [sys.executable, "-c", script], check=True, env={"LMBENCH_CACHE_DIR": str(tmp_path / "c")}
    )
    loaded = load_history(path)
    assert [e.text for e in loaded] == ["from the other process"]
    assert loaded.entries("module")[0].module == "Predict"
    assert len(history) == 0  # this process's own history is untouched


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("[1, 2]", "a JSON array"),
        ('"text"', "a JSON string"),
        ("42", "a JSON number"),
        ("null", "a JSON null"),
        ('{"kind": "lm", "call_id": "x", "request": 5}', "AttributeError"),
        ('{"kind": "lm", "call_id": "x", "usage": [1]}', "TypeError"),
    ],
)
def test_valid_json_that_is_not_an_entry_is_skipped(tmp_path: Path, line: str, kind: str) -> None:
    path = tmp_path / "h.jsonl"
    collector = JSONLCollector(path)
    with context(history=collector):
        for text in ("one", "two"):
            with lm_call(ScriptedLM([text]), LMRequest(messages=(Message("user", "q"),))) as call:
                call.run()
    collector.close()
    first, second = path.read_text().splitlines()
    path.write_text(f"{first}\n{line}\n{second}\n")
    with pytest.warns(RuntimeWarning) as warned:
        texts = [e.text for e in load_history(path).entries()]
    assert texts == ["one", "two"]
    [message] = [str(w.message) for w in warned]
    assert f"{path} line 2 is corrupted" in message and kind in message
