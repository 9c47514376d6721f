"""Callbacks of the driver hear the events of rows run on Dask workers: the same events with
the same payload keys as a run on threads, row by row, on a real LocalCluster against a
loopback model server."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

distributed = pytest.importorskip("distributed", reason="needs lmbench[dask]")

from evaluate_helpers import WORKER_KEY, items  # noqa: E402
from model_server import ModelServer, running_model_server  # noqa: E402

import lmbench  # noqa: E402
from lmbench import metrics  # noqa: E402
from lmbench.calls import Callback, CallbackEvent  # noqa: E402
from lmbench.calls.callbacks import EVENTS  # noqa: E402
from lmbench.evaluate.executors.events import RemoteCall  # noqa: E402
from lmbench.lm.registry import resolve_lm  # noqa: E402
from lmbench.modules.predict import Predict  # noqa: E402
from lmbench.observe import MemoryCollector  # noqa: E402
from lmbench.settings import context  # noqa: E402

DRIVER_KEY = "sk-driver-only-0123456789abcdefghij"


class Heard(Callback):
    """Keeps every event it is told, and the process it was told in."""

    def __init__(self) -> None:
        self.events: list[CallbackEvent] = []
        self.pids: set[int] = set()

    def _hear(self, event: CallbackEvent) -> None:
        self.events.append(event)
        self.pids.add(os.getpid())


for _name in EVENTS:
    setattr(Heard, f"on_{_name}", Heard._hear)


class WritesToFile(Callback):
    """A module's own callback: appends ``<pid> <event>`` lines to a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_lm_end(self, event: CallbackEvent) -> None:
        with self.path.open("a") as out:
            out.write(f"{os.getpid()} {event.name}\n")


@pytest.fixture(scope="module")
def server() -> Iterator[ModelServer]:
    with running_model_server(delay=0.01) as running:
        yield running


def _qa(server: ModelServer, **options: Any) -> Predict:
    lm = resolve_lm("openai/loopback", base_url=server.base_url, api_key=DRIVER_KEY)
    return Predict("question -> answer", lm=lm, adapter="chat", **options)


def _rows(events: list[CallbackEvent]) -> list[list[CallbackEvent]]:
    """Events cut at each row's start (its ``Evaluate`` module call)."""
    rows: list[list[CallbackEvent]] = []
    for event in events:
        if event.name == "module_start" and event.call.module == "Evaluate":
            rows.append([])
        rows[-1].append(event)
    return rows


def _shape(event: CallbackEvent) -> tuple[str, tuple[str, ...]]:
    return event.name, tuple(sorted(event.payload))


def _item(row: list[CallbackEvent]) -> set[str]:
    """The item numbers a row's events speak of."""
    found: set[str] = set()
    for event in row:
        request = event.payload.get("request")
        if request is not None:
            found.update(re.findall(r"item (\d+)", request.messages[-1].text))
        inputs = event.payload.get("inputs")
        if isinstance(inputs, dict) and "question" in inputs:
            found.update(re.findall(r"item (\d+)", inputs["question"]))
    return found


def test_the_drivers_callbacks_hear_every_worker_event_row_by_row(
    keyed_cluster: Any, server: ModelServer, collector: MemoryCollector
) -> None:
    qa = _qa(server)
    heard_here, heard_there = Heard(), Heard()
    with context(cache=False, callbacks=[heard_here]):
        lmbench.evaluate(qa, items(12), metrics.exact_match, threads=1, progress=False)
    with context(cache=False, callbacks=[heard_there]):
        result = lmbench.evaluate(
            qa, items(12), metrics.exact_match, threads=4, executor=keyed_cluster, progress=False
        )
    assert heard_there.pids == {os.getpid()}  # told on the driver
    here, there = _rows(heard_here.events), _rows(heard_there.events)
    assert len(there) == 12
    # the same events with the same payload keys, in the same order within each row
    assert all([_shape(e) for e in row] == [_shape(e) for e in here[0]] for row in there)
    assert [_shape(e) for e in here[0]][:3] == [
        ("module_start", ("call", "inputs")),
        ("module_start", ("call", "inputs")),
        ("adapter_format_start", ("adapter", "inputs", "signature")),
    ]
    # each row's events are its own, in the order they happened
    assert sorted(int(n) for row in there for n in _item(row)) == list(range(1, 13))
    assert all(len(_item(row)) == 1 for row in there)
    assert all([e.time for e in row] == sorted(e.time for e in row) for row in there)
    entries = {id(e) for e in collector.entries()}
    for event in heard_there.events:
        if "call" in event.payload:
            assert isinstance(event.call, RemoteCall) and event.call.call_id == event.call_id
        if event.name == "lm_start":
            assert event.lm is qa.lm  # the driver's own LM object
        if event.name == "lm_end":
            assert event.error is None and event.response.text.startswith("[[ ## answer ## ]]")
            assert id(event.entry) in entries and event.entry.call_id == event.call_id
            assert event.entry.run_id == result.run_id
            assert event.call.entry is event.entry and event.call.model == "openai/loopback"
        if event.name == "adapter_parse_end":
            assert event.outputs[0]["answer"].startswith(("answer-", "wrong"))
            assert event.signature == qa.signature
        assert WORKER_KEY not in repr(event.payload) and DRIVER_KEY not in repr(event.payload)
    assert server.auth_values >= {f"Bearer {WORKER_KEY}"}  # the workers' own key was used


def test_errors_travel_as_errors(keyed_cluster: Any, server: ModelServer) -> None:
    heard = Heard()
    qa = _qa(server)
    qa.signature = qa.signature.with_updated_fields("answer", annotation=int)
    with context(cache=False, callbacks=[heard]):
        result = lmbench.batch(qa, items(3), executor=keyed_cluster, progress=False)
    assert all(r.error is not None for r in result.rows)
    parse_ends = [e for e in heard.events if e.name == "adapter_parse_end"]
    assert len(parse_ends) == 3
    assert all(isinstance(e.error, lmbench.AdapterParseError) for e in parse_ends)
    assert "answer" in str(parse_ends[0].error)


def test_a_modules_own_callbacks_run_on_the_worker(
    keyed_cluster: Any, server: ModelServer, tmp_path: Path
) -> None:
    """The documented choice: callbacks given to a module are part of the program and run
    where it runs; the driver's configured ones hear those calls too."""
    log = tmp_path / "module-callback.log"
    heard = Heard()
    qa = _qa(server, callbacks=[WritesToFile(log)])
    with context(cache=False, callbacks=[heard]):
        lmbench.batch(qa, items(4), executor=keyed_cluster, progress=False)
    lines = log.read_text().splitlines()
    assert len(lines) == 4 and all(line.endswith(" lm_end") for line in lines)
    assert str(os.getpid()) not in {line.split()[0] for line in lines}
    assert len([e for e in heard.events if e.name == "lm_end"]) == 4


def test_no_callbacks_no_events_are_recorded(response_cache: Any) -> None:
    """In this process, as a worker would: events are kept only when the driver listens."""
    from evaluate_helpers import item_answer

    from lmbench.evaluate.data import load_rows
    from lmbench.evaluate.executors.dask import run_partition
    from lmbench.evaluate.executors.transport import pack_task
    from lmbench.evaluate.rows import RowTask
    from lmbench.lm.scripted import ScriptedLM

    qa = Predict("question -> answer", lm=ScriptedLM(item_answer), adapter="chat")
    rows = load_rows(items(3), qa, None)
    payload = pack_task(RowTask(qa))
    silent = run_partition(payload, rows, [7, 8, 9], 2)
    assert silent.events == [] and [r.position for r in silent.results] == [7, 8, 9]
    told = run_partition(payload, rows, [7, 8, 9], 2, events=True)
    assert sorted({position for position, *_ in told.events}) == [7, 8, 9]
    assert len(told.events) == 3 * len([e for e in told.events if e[0] == 7])


def test_payload_values_are_made_portable_on_the_worker() -> None:
    import pickle
    import threading

    from evaluate_helpers import item_answer

    from lmbench.evaluate.executors.events import RowEvents, Unshipped
    from lmbench.lm.scripted import ScriptedLM

    qa = Predict("question -> answer", lm=ScriptedLM(item_answer), adapter="chat")
    prediction = qa(question="What is item 2?")
    recorder = RowEvents()
    event = CallbackEvent(
        "module_end",
        "c1",
        None,
        1.0,
        {"call": prediction.call, "outputs": prediction, "lock": threading.Lock(), "n": 3},
    )
    recorder.on_module_end(event)
    ((position, name, call_id, _, at, payload),) = recorder.events
    assert (position, name, call_id, at) == (-1, "module_end", "c1", 1.0)
    assert isinstance(payload["call"], RemoteCall) and payload["call"].module == "Predict"
    assert payload["outputs"] == {"answer": "answer-2"} and payload["outputs"].call is None
    assert payload["outputs"].adapter == "ChatAdapter"
    assert isinstance(payload["lock"], Unshipped) and "lock" in repr(payload["lock"])
    assert payload["n"] == 3
    pickle.loads(pickle.dumps(payload))  # all of it travels
