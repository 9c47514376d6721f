"""Rows on a real Dask LocalCluster (2 worker processes) against a loopback model server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

distributed = pytest.importorskip("distributed", reason="needs lmbench[dask]")

from evaluate_helpers import chat, item_answer, items  # noqa: E402
from model_server import ModelServer, running_model_server  # noqa: E402

import lmbench  # noqa: E402
from lmbench import metrics  # noqa: E402
from lmbench.errors import ConfigError, RunsFailed  # noqa: E402
from lmbench.lm.registry import resolve_lm  # noqa: E402
from lmbench.lm.scripted import ScriptedLM  # noqa: E402
from lmbench.lm.types import LMRequest  # noqa: E402
from lmbench.modules.predict import Predict  # noqa: E402
from lmbench.observe import MemoryCollector  # noqa: E402
from lmbench.observe.entry import SESSION_ID  # noqa: E402
from lmbench.settings import context  # noqa: E402

KEY = "sk-test-driver-only-0123456789abcdefghij"


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as dask_client,
    ):
        yield dask_client


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with running_model_server(delay=0.01) as running:
        yield running


def loopback_qa(server: ModelServer) -> Predict:
    lm = resolve_lm("openai-compatible/loopback", base_url=server.base_url, api_key=KEY)
    return Predict("question -> answer", lm=lm)


def test_dask_gives_the_threads_results_row_for_row(
    client: Any, server: ModelServer, collector: MemoryCollector
) -> None:
    qa = loopback_qa(server)
    data = items(40)
    with context(cache=False):
        on_threads = lmbench.evaluate(qa, data, metrics.exact_match, threads=8, progress=False)
        before = server.with_auth
        on_dask = lmbench.evaluate(
            qa, data, metrics.exact_match, threads=8, executor=client, progress=False
        )
    assert on_dask.executor == "dask" and on_dask.score == pytest.approx(0.8)
    assert [r.outputs for r in on_dask.rows] == [r.outputs for r in on_threads.rows]
    assert [r.score for r in on_dask.rows] == [r.score for r in on_threads.rows]
    assert on_dask.totals.tokens == on_threads.totals.tokens == 40 * 48
    # the workers had no key in their environment and none came in the task: no auth header
    assert server.with_auth == before
    # the workers' history entries came back to this process's collector, under the run id
    worker_calls = [e for e in collector.entries() if e.kind == "lm" and e.run_id == on_dask.run_id]
    assert len(worker_calls) == 40 and {e.session_id for e in worker_calls}.isdisjoint({SESSION_ID})
    assert lmbench.load_run(on_dask.run_id).score == on_dask.score


def test_a_scripted_lm_travels_as_its_script_and_row_errors_are_kept(client: Any) -> None:
    def answer(request: LMRequest) -> str:
        return "garbled" if "item 7" in request.messages[-1].text else item_answer(request)

    qa = Predict("question -> answer", lm=ScriptedLM(answer), adapter="chat")
    result = lmbench.batch(qa, items(12), executor="dask", progress=False)  # the default client
    assert [r.error is not None for r in result.rows] == [i == 7 for i in range(1, 13)]
    assert "AdapterParseError" in result.rows[6].error
    assert result[0]["answer"] == "answer-1" and result[6] is None


def test_settings_in_force_travel_with_the_task(client: Any, server: ModelServer) -> None:
    qa = loopback_qa(server)
    server.temperatures.clear()
    with context(temperature=0.7, adapter="chat"):
        result = lmbench.batch(qa, items(6), executor=client, progress=False)
    assert server.temperatures == [0.7] * 6
    assert {r.adapter for r in result.rows} == {"ChatAdapter"}


def test_workers_share_the_disk_cache_folder(client: Any, server: ModelServer) -> None:
    qa = loopback_qa(server)
    first = lmbench.batch(qa, items(8, start=100), executor=client, progress=False)
    assert {r.cache for r in first.rows} == {"miss"}
    again = lmbench.batch(qa, items(8, start=100), threads=2, progress=False)  # in this process
    assert {r.cache for r in again.rows} == {"disk"}


def evaluate_40_on_dask(qa: Any, client: Any, **limit: Any) -> None:
    """Evaluate 40 items on the cluster, two threads a worker, under ``limit`` (a run the
    limit is expected to stop)."""
    lmbench.evaluate(
        qa, items(40), metrics.exact_match, executor=client, threads=2, progress=False, **limit
    )


def test_max_errors_stops_a_dask_run_with_the_rows_done(client: Any) -> None:
    qa = Predict("question -> answer: int", lm=ScriptedLM(lambda r: "nothing"), adapter="chat")
    with pytest.raises(RunsFailed, match="max_errors=3") as info:
        evaluate_40_on_dask(qa, client, max_errors=3)
    assert len(info.value.partial_result.rows) >= 4  # type: ignore[attr-defined]


def test_progress_comes_from_the_finished_partitions(
    client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    qa = Predict("question -> answer", lm=ScriptedLM(lambda r: chat(answer="x")))
    lmbench.batch(qa, items(20), executor=client, progress=True)
    assert "20/20" in capsys.readouterr().err


def test_no_client_and_unknown_executors_are_clear_errors() -> None:
    from lmbench.evaluate.executors.dask import resolve_client

    with pytest.raises(ConfigError, match=r"use 'threads', 'dask', or a dask\.distributed\.Client"):
        resolve_client("spark")


def test_predict_cell_over_a_frame_on_dask(client: Any) -> None:
    import pandas as pd

    from lmbench.notebook.predict_magic import PredictCell
    from lmbench.settings import configure

    configure(lm=ScriptedLM(item_answer))
    namespace = {"df": pd.DataFrame({"question": [f"What is item {i}?" for i in range(1, 6)]})}
    cell = PredictCell.parse(
        '"question -> answer" --over df --executor dask --threads 4', "# rows\n", namespace
    )
    frame = cell.run(namespace)
    assert frame["answer"].tolist() == ["answer-1", "answer-2", "answer-3", "answer-4", "wrong"]
    namespace["df"]["answer"] = [f"answer-{i}" for i in range(1, 6)]
    scored = PredictCell.parse(
        '"question -> answer" --over df --metric exact_match --executor dask', "# rows\n", namespace
    ).run(namespace)
    assert scored.executor == "dask" and scored.score == 0.8


def test_a_token_budget_without_max_tokens_stops_the_run(client: Any, server: ModelServer) -> None:
    from lmbench.errors import BudgetExceeded

    qa = loopback_qa(server)
    with context(cache=False), pytest.raises(BudgetExceeded) as info:
        # 48 tokens a call, reserved as the prompt's estimate alone (no max_tokens): the run
        # stops once the calls settled on this side cross the limit (see test_dask_shares)
        evaluate_40_on_dask(qa, client, budget={"tokens": 200})
    partial = info.value.partial_result  # type: ignore[attr-defined]
    assert 0 < len(partial.rows) < 40
