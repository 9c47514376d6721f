"""What travels to Dask workers: LM specs instead of LMs, no HTTP client or key, ever."""

from __future__ import annotations

import pickle

import cloudpickle
import httpx
import pytest
from evaluate_helpers import item_answer

from lmbench import metrics
from lmbench.errors import ConfigError
from lmbench.evaluate.executors.transport import build_lm, dumps, lm_spec, loads_task, pack_task
from lmbench.evaluate.rows import RowTask
from lmbench.lm.base import BaseLM
from lmbench.lm.registry import resolve_lm
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.chain_of_thought import ChainOfThought
from lmbench.modules.predict import Predict
from lmbench.settings import context

KEY = "sk-test-0123456789abcdefghijklmnopqrstuv"


def test_a_remote_lm_travels_as_name_base_url_and_retries_never_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    lm = resolve_lm("openai/gpt-4o-mini", base_url="http://127.0.0.1:9/v1", max_retries=5)
    spec = lm_spec(lm)
    assert spec == {
        "kind": "name",
        "name": "openai/gpt-4o-mini",
        "options": {"base_url": "http://127.0.0.1:9/v1", "max_retries": 5},
    }
    rebuilt = build_lm(spec)
    assert rebuilt.name == lm.name and rebuilt.base_url == lm.base_url
    assert build_lm(spec) is rebuilt  # one LM per spec in a process: connections are reused


def test_the_task_payload_holds_no_key_no_client_and_rebuilds_the_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    explicit = "sk-explicit-9876543210zyxwvutsrqponmlkj"
    program = ChainOfThought(
        "question -> answer",
        lm=resolve_lm("openai/gpt-4o-mini", api_key=explicit),
        demos=[{"question": "q", "reasoning": "r", "answer": "a"}],
    )
    judge = metrics.judge(
        lm=resolve_lm("openai-compatible/judge", base_url="http://127.0.0.1:9/v1")
    )
    with context(
        lm=resolve_lm("anthropic/claude-3-5-haiku-latest", api_key=explicit), temperature=0.2
    ):
        payload = pack_task(RowTask(program, judge, {}, "cot", "judge"))
    for secret in (KEY, explicit):
        assert secret.encode() not in payload
    assert b"Authorization" not in payload and b"httpx" not in payload
    task, settings = loads_task(payload)
    assert (
        settings["temperature"] == 0.2
        and settings["lm"].name == "anthropic/claude-3-5-haiku-latest"
    )
    assert task.program.demos == program.demos and task.program.lm.name == "openai/gpt-4o-mini"
    shipped = task.program.signature
    assert str(shipped) == str(program.signature)
    assert shipped.instructions == program.signature.instructions
    assert task.metric.predict.lm.base_url == "http://127.0.0.1:9/v1"


def test_a_scripted_lm_travels_as_its_script() -> None:
    lm = ScriptedLM(item_answer, model="items")
    copy = pickle.loads(dumps(lm))
    assert isinstance(copy, ScriptedLM) and copy is not lm and copy.model == "items"
    assert copy.script is not None and copy.requests == []


def test_clients_keys_and_unknown_lms_refuse_to_travel() -> None:
    with pytest.raises(ConfigError, match="cannot be sent to Dask workers"):
        dumps({"client": httpx.Client()})

    class Homemade(BaseLM):
        provider = "home"

    with pytest.raises(ConfigError, match="to_spec"):
        dumps(Homemade())

    class Described(BaseLM):
        provider = "scripted"
        model = "echo"

        def to_spec(self) -> dict[str, object]:
            return {"name": "scripted/echo"}

    rebuilt = cloudpickle.loads(dumps(Described()))
    assert isinstance(rebuilt, ScriptedLM) and rebuilt.model == "echo"


def test_executor_dask_without_a_client_says_how_to_make_one() -> None:
    pytest.importorskip("distributed", reason="needs lmbench[dask]")
    from lmbench.evaluate.executors.dask import resolve_client

    with pytest.raises(ConfigError, match="found no Dask client") as info:
        resolve_client("dask")
    assert "tcp://scheduler-host:8786" in str(info.value)


def test_the_program_travels_as_structure_plus_its_json_state() -> None:
    import json

    demos = [{"question": "q1", "answer": "a1"}]
    program = Predict("question -> answer", lm=ScriptedLM(item_answer), demos=demos)
    judge = metrics.judge(lm=ScriptedLM(item_answer))
    judge.predict.demos = [{"inputs": "i", "expected": "e", "output": "o", "score": 1.0}]
    payload = pack_task(RowTask(program, judge, {}, "qa", "judge"))
    raw = cloudpickle.loads(payload)
    assert raw["task"].program.demos == []  # the structure carries no parameters
    assert json.loads(raw["state"])["self"]["demos"] == demos  # the JSON state does
    task, _settings = loads_task(payload)
    assert task.program.demos == demos
    assert task.metric.predict.demos == judge.predict.demos  # a metric's predictor keeps its own
