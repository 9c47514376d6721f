"""Memory and composite collectors, and choosing a collector from settings or LMBENCH_HISTORY."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lmbench.calls import lm_call
from lmbench.errors import ConfigError
from lmbench.lm import LMRequest, Message, ScriptedLM
from lmbench.observe import (
    CompositeCollector,
    JSONLCollector,
    MemoryCollector,
    SQLiteCollector,
    collector_from_spec,
    history,
)
from lmbench.observe import collectors as collectors_module
from lmbench.settings import configure, context


def _calls(n: int) -> None:
    lm = ScriptedLM([f"answer {i}" for i in range(n)])
    for i in range(n):
        with lm_call(lm, LMRequest(messages=(Message("user", f"q{i}"),))) as call:
            call.run()


def test_the_memory_collector_is_bounded() -> None:
    memory = MemoryCollector(maxlen=3)
    with context(history=memory):
        _calls(5)
    assert [e.text for e in memory.entries()] == ["answer 2", "answer 3", "answer 4"]
    assert len(memory) == 3


def test_a_composite_collector_writes_everywhere(tmp_path: Path) -> None:
    memory = MemoryCollector()
    jsonl = JSONLCollector(tmp_path / "h.jsonl")
    with context(history=CompositeCollector(memory, jsonl)):
        _calls(2)
    assert [e.text for e in memory.entries()] == ["answer 0", "answer 1"]
    assert [e.text for e in jsonl.entries()] == ["answer 0", "answer 1"]
    jsonl.close()


def test_a_list_of_collectors_in_settings_means_all_of_them(tmp_path: Path) -> None:
    first, second = MemoryCollector(), MemoryCollector()
    with context(history=[first, second]):
        _calls(1)
    assert len(first) == len(second) == 1


@pytest.mark.parametrize(
    ("spec", "kind"),
    [
        ("memory", MemoryCollector),
        ("jsonl:///{dir}/h.jsonl", JSONLCollector),
        ("sqlite:///{dir}/h.db", SQLiteCollector),
    ],
)
def test_spec_strings_name_collectors(spec: str, kind: type, tmp_path: Path) -> None:
    collector = collector_from_spec(spec.format(dir=str(tmp_path).lstrip("/")))
    assert isinstance(collector, kind)
    collector.close()


@pytest.mark.parametrize(
    "spec", ["memroy", "csv:///tmp/h.csv", "jsonl://relative/h.jsonl", "sqlite:"]
)
def test_bad_spec_strings_name_the_variable(spec: str) -> None:
    with pytest.raises(ConfigError, match="LMBENCH_HISTORY") as info:
        collector_from_spec(spec, source="LMBENCH_HISTORY")
    assert repr(spec) in str(info.value)


def test_configure_history_with_a_spec_string(tmp_path: Path) -> None:
    path = tmp_path / "configured.jsonl"
    configure(history=f"jsonl://{path}")
    _calls(2)
    assert [e.text for e in history.last(2)] == ["answer 0", "answer 1"]
    assert len(path.read_text().splitlines()) == 2
    collectors_module._by_spec.pop(f"jsonl://{path}").close()


def test_a_bad_history_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="history=42"):
        collectors_module.resolve_collector(42)


def test_lmbench_history_sets_the_default_collector(tmp_path: Path) -> None:
    path = tmp_path / "env.db"
    script = (
        "from lmbench.lm import LMRequest, Message, ScriptedLM\n"
        "from lmbench.calls import lm_call\n"
        "from lmbench.observe import history\n"
        "with lm_call(ScriptedLM(['from env']), LMRequest(messages=(Message('user', 'q'),))) as c:\n"
        "    c.run()\n"
        "print(type(history.collector).__name__)\n"
    )
    env = {"LMBENCH_HISTORY": f"sqlite://{path}", "LMBENCH_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "SQLiteCollector"
    assert [e.text for e in SQLiteCollector(path).entries()] == ["from env"]


def test_a_bad_lmbench_history_fails_naming_the_variable(tmp_path: Path) -> None:
    script = "from lmbench.observe import history\nlen(history)\n"
    env = {"LMBENCH_HISTORY": "postgres://x", "LMBENCH_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True)
    assert out.returncode != 0
    assert "ConfigError: LMBENCH_HISTORY='postgres://x' is not a history backend" in out.stderr


def test_a_bad_history_setting_fails_before_the_call() -> None:
    lm = ScriptedLM(["never"])
    with (
        context(history="memroy"),
        pytest.raises(ConfigError, match="history='memroy'"),
        lm_call(lm, LMRequest(messages=(Message("user", "q"),))) as call,
    ):
        call.run()
    assert lm.requests == []
