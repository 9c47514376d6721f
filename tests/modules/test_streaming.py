"""Streaming and status for every module: field deltas, status events, then the result."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest
from chat_answers import chat_answer as answer
from paris import paris_best_of_n

from lmbench.adapters.results import FieldDelta
from lmbench.errors import ConfigError, ToolError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules import (
    AttemptFinished,
    AttemptStarted,
    ChainOfThought,
    Module,
    MultiChainComparison,
    Notice,
    Parallel,
    Predict,
    Program,
    ReAct,
    Refine,
    StatusEvent,
    StepStarted,
    ToolFinished,
    ToolStarted,
    report,
    streamify,
    typed,
)
from lmbench.primitives.prediction import Prediction


def step(thought: str, tool: str, args: dict[str, Any]) -> str:
    return answer(next_thought=thought, next_tool_name=tool, next_tool_args=json.dumps(args))


def fields_of(events: list[Any]) -> dict[str, str]:
    """The last text each streamed field reached."""
    return {e.field: e.value_so_far for e in events if isinstance(e, FieldDelta)}


def statuses(events: list[Any]) -> list[str]:
    return [e.text for e in events if isinstance(e, StatusEvent)]


def collect_async(stream: Any) -> list[Any]:
    async def run() -> list[Any]:
        return [event async for event in stream]

    return asyncio.run(run())


def lookup(city: str) -> int:
    """The temperature of a city."""
    return {"Paris": 21, "Oslo": 9}[city]


def test_predict_streams_deltas_then_the_prediction() -> None:
    lm = ScriptedLM([answer(answer="Paris is the capital")], chunk_size=4)
    events = list(Predict("question -> answer", lm=lm).stream(question="Capital of France?"))
    assert isinstance(events[-1], Prediction)
    assert events[-1].answer == "Paris is the capital"
    deltas = [e for e in events if isinstance(e, FieldDelta)]
    assert len(deltas) > 1  # arrived in pieces
    assert "".join(d.text for d in deltas) == "Paris is the capital"


def react_script() -> list[str]:
    return [
        step("Look up Paris.", "lookup", {"city": "Paris"}),
        step("Done.", "finish", {}),
        answer(reasoning="It is 21.", answer="21"),
    ]


def test_react_streams_steps_tools_and_the_extraction_in_order() -> None:
    agent = ReAct("question -> answer: int", tools=[lookup], lm=ScriptedLM(react_script()))
    events = list(agent.stream(question="How warm is Paris?"))
    status = [e for e in events if isinstance(e, StatusEvent)]
    assert status == [
        StepStarted("ReAct", 1, 5, "step"),
        ToolStarted("ReAct", "lookup", {"city": "Paris"}, 1),
        ToolFinished("ReAct", "lookup", "21", False, 1),
        StepStarted("ReAct", 2, 5, "step"),
        StepStarted("ReAct", 3, None, "extract the outputs"),
    ]
    # the tool's start comes after the first step's fields and before the second step's
    first_tool = events.index(status[1])
    assert any(
        isinstance(e, FieldDelta) and e.field == "next_tool_name" for e in events[:first_tool]
    )
    assert fields_of(events)["answer"] == "21"
    pred = events[-1]
    assert isinstance(pred, Prediction) and pred.answer == 21 and pred.finished
    assert statuses(events)[1] == 'ReAct · running lookup({"city": "Paris"})'


def test_a_stream_and_a_call_give_the_same_prediction_and_usage() -> None:
    called = ReAct("question -> answer: int", tools=[lookup], lm=ScriptedLM(react_script()))(
        question="How warm is Paris?"
    )
    streamed = list(
        ReAct("question -> answer: int", tools=[lookup], lm=ScriptedLM(react_script())).stream(
            question="How warm is Paris?"
        )
    )[-1]
    assert streamed == called
    assert streamed.trajectory == called.trajectory
    assert streamed.usage == called.usage
    assert [c.streamed for c in streamed.lm_calls] == [True, True, True]
    assert [c.streamed for c in called.lm_calls] == [False, False, False]


def test_react_astream_gives_the_same_events() -> None:
    agent = ReAct("question -> answer: int", tools=[lookup], lm=ScriptedLM(react_script()))
    sync_events = list(agent.stream(question="How warm is Paris?"))
    agent = ReAct("question -> answer: int", tools=[lookup], lm=ScriptedLM(react_script()))
    async_events = collect_async(agent.astream(question="How warm is Paris?"))
    assert statuses(async_events) == statuses(sync_events)
    assert fields_of(async_events) == fields_of(sync_events)
    assert async_events[-1] == sync_events[-1]


def test_best_of_n_streams_each_attempt_and_its_reward() -> None:
    best = paris_best_of_n("Lyon", "Paris")
    events = list(best.stream(question="Capital of France?"))
    assert [e for e in events if isinstance(e, StatusEvent)] == [
        AttemptStarted("BestOfN", 1, 3),
        AttemptFinished("BestOfN", 1, 0.0),
        AttemptStarted("BestOfN", 2, 3),
        AttemptFinished("BestOfN", 2, 1.0),
    ]
    assert events[-1].answer == "Paris"
    assert [d.value_so_far for d in events if isinstance(d, FieldDelta)][-1] == "Paris"


def test_refine_streams_the_advice_each_attempt_gets() -> None:
    lm = ScriptedLM(
        [answer(answer="A long answer"), answer(advice="Be brief."), answer(answer="Short")]
    )
    refine = Refine(
        Predict("question -> answer", lm=lm),
        n=2,
        reward_fn=lambda i, p: float(len(p.answer) < 10),
        threshold=1.0,
    )
    events = list(refine.stream(question="Describe Paris"))
    started = [e for e in events if isinstance(e, AttemptStarted)]
    assert [(e.attempt, e.hint) for e in started] == [(1, ""), (2, "Be brief.")]
    assert "with advice: Be brief." in started[1].text
    assert any(isinstance(e, FieldDelta) and e.field == "advice" for e in events)
    assert events[-1].answer == "Short"


def test_program_streams_which_step_runs() -> None:
    lm = ScriptedLM([answer(reasoning="Think.", outline="a, b"), answer(article="A and B.")])
    program = Program(
        ChainOfThought("topic -> outline", lm=lm), Predict("topic, outline -> article", lm=lm)
    )
    events = list(program.stream(topic="tides"))
    steps = [e for e in events if isinstance(e, StepStarted)]
    assert [(e.step, e.total) for e in steps] == [(1, 2), (2, 2)]
    assert steps[1].name == "Predict(topic, outline -> article)"
    assert events[-1].article == "A and B."
    assert fields_of(events)["outline"] == "a, b"


def test_parallel_streams_the_items_events_and_ends_with_the_results() -> None:
    lm = ScriptedLM({"France": answer(answer="Paris"), "Norway": answer(answer="Oslo")})
    qa = Predict("question -> answer", lm=lm)
    pairs = [(qa, {"question": "France?"}), (qa, {"question": "Norway?"})]
    events = list(Parallel(num_threads=2).stream(pairs))
    results = events[-1]
    assert [r.answer for r in results] == ["Paris", "Oslo"]
    assert sorted(d.value_so_far for d in events if isinstance(d, FieldDelta)) == [
        "Oslo",
        "Paris",
    ]
    assert results.usage.total_tokens == sum(r.usage.total_tokens for r in results) > 0


def test_multi_chain_and_typed_programs_stream() -> None:
    lm = ScriptedLM(
        [
            answer(reasoning="r1", answer="4"),
            answer(reasoning="r2", answer="4"),
            answer(reasoning="Both say 4.", answer="4"),
        ]
    )
    mcc = MultiChainComparison("question -> answer", M=2, lm=lm)
    events = list(mcc.stream(question="2 + 2?"))
    assert [e.name for e in events if isinstance(e, StepStarted)] == [
        "make 2 attempts",
        "compare the attempts",
    ]
    assert events[-1].answer == "4"

    from pydantic import BaseModel

    class Question(BaseModel):
        question: str

    class Answer(BaseModel):
        answer: str

    program = typed(Question, Answer, lm=ScriptedLM([answer(answer="Paris")]))
    events = list(program.stream(Question(question="Capital?")))
    assert events[-1] == Answer(answer="Paris")
    assert fields_of(events) == {"answer": "Paris"}


class Summarise(Module):
    """A user module with a plain forward calling two predictors."""

    def __init__(self, lm: ScriptedLM) -> None:
        self.outline = ChainOfThought("text -> outline", lm=lm)
        self.write = Predict("outline -> summary", lm=lm)
        self.threads: list[str] = []

    def forward(self, text: str) -> Prediction:
        self.threads.append(threading.current_thread().name)
        report(Notice("Summarise", "progress", "outline done"))
        return self.write(outline=self.outline(text=text).outline)


def summarise_lm() -> ScriptedLM:
    return ScriptedLM(
        [answer(reasoning="Short text.", outline="one point"), answer(summary="It says one thing.")]
    )


def test_streamify_passes_on_the_events_of_the_modules_a_forward_calls() -> None:
    program = Summarise(summarise_lm())
    events = list(streamify(program)(text="Some text."))
    assert fields_of(events) == {
        "reasoning": "Short text.",
        "outline": "one point",
        "summary": "It says one thing.",
    }
    assert statuses(events) == ["Summarise · progress: outline done"]
    # the outline's deltas all come before the summary's
    names = [e.field for e in events if isinstance(e, FieldDelta)]
    assert names.index("summary") > max(i for i, n in enumerate(names) if n == "outline")
    pred = events[-1]
    assert pred.summary == "It says one thing."
    assert len(pred.lm_calls) == 2 and pred.call.module == "Summarise"
    assert program.threads == ["lmbench-stream"]  # forward ran in a worker thread


def test_a_user_module_streams_the_same_way_without_streamify() -> None:
    events = list(Summarise(summarise_lm()).stream(text="Some text."))
    assert events[-1].summary == "It says one thing."
    assert "summary" in fields_of(events)


def test_streamify_async_and_a_plain_function() -> None:
    program = Summarise(summarise_lm())
    events = collect_async(streamify(program).astream(text="Some text."))
    assert fields_of(events)["summary"] == "It says one thing."
    assert events[-1].summary == "It says one thing."

    qa = Predict("question -> answer", lm=ScriptedLM([answer(answer="Paris")]))

    def ask_twice(question: str) -> str:
        return qa(question=question).answer.upper()

    events = list(streamify(ask_twice)(question="Capital?"))
    assert events[-1] == "PARIS"
    assert fields_of(events) == {"answer": "Paris"}


def test_an_error_in_a_streamed_forward_is_raised_by_the_stream() -> None:
    class Broken(Module):
        def forward(self, text: str) -> Any:
            raise ToolError("the index is down")

    with pytest.raises(ToolError, match="the index is down"):
        list(streamify(Broken())(text="x"))
    with pytest.raises(ToolError, match="the index is down"):
        collect_async(streamify(Broken()).astream(text="x"))


def test_report_outside_a_stream_does_nothing_and_streamify_needs_a_callable() -> None:
    report(Notice("X", "progress", "nobody listens"))  # no error, no effect
    with pytest.raises(ConfigError, match="streamify needs a module or a function"):
        streamify("Predict")  # type: ignore[arg-type]


def test_a_module_called_inside_a_streamed_forward_streams_its_lm_call() -> None:
    """Inside a stream, plain calls of built-in modules stream their LM calls too, so their
    deltas reach the stream; outside one they do not."""
    program = Summarise(summarise_lm())
    pred = list(streamify(program)(text="Some text."))[-1]
    assert [c.streamed for c in pred.lm_calls] == [True, True]
    plain = Summarise(summarise_lm())(text="Some text.")
    assert [c.streamed for c in plain.lm_calls] == [False, False]


def test_parallel_attempts_stream_their_events_from_every_thread() -> None:
    best = paris_best_of_n("Lyon", "Paris", "Nice", threshold=2.0, parallel=True)
    events = list(best.stream(question="Capital of France?"))
    started = sorted(e.attempt for e in events if isinstance(e, AttemptStarted))
    finished = {e.attempt: e.reward for e in events if isinstance(e, AttemptFinished)}
    assert started == [1, 2, 3] and sorted(finished) == [1, 2, 3]
    assert sorted(finished.values()) == [0.0, 0.0, 1.0]
    assert sorted(d.value_so_far for d in events if isinstance(d, FieldDelta)) == [
        "Lyon",
        "Nice",
        "Paris",
    ]
    assert events[-1].answer == "Paris"


def test_parallel_astream_runs_the_items_as_tasks() -> None:
    lm = ScriptedLM({"France": answer(answer="Paris"), "Norway": answer(answer="Oslo")})
    qa = Predict("question -> answer", lm=lm)
    pairs = [(qa, {"question": "France?"}), (qa, {"question": "Norway?"})]
    events = collect_async(Parallel(num_threads=2).astream(pairs))
    assert [r.answer for r in events[-1]] == ["Paris", "Oslo"]
    assert {d.value_so_far for d in events if isinstance(d, FieldDelta)} == {"Paris", "Oslo"}


def test_a_stream_opened_inside_a_streamed_forward_keeps_its_own_events() -> None:
    class Outer(Module):
        def __init__(self) -> None:
            self.inner = Summarise(summarise_lm())
            self.seen: list[Any] = []

        def forward(self, text: str) -> Any:
            for event in self.inner.stream(text=text):
                self.seen.append(event)
            return event

    outer = Outer()
    events = list(streamify(outer)(text="Some text."))
    assert fields_of(outer.seen)["summary"] == "It says one thing."  # the inner stream's own
    assert statuses(outer.seen) == ["Summarise · progress: outline done"]
    assert not [e for e in events if isinstance(e, (FieldDelta, StatusEvent))]
    assert events[-1].summary == "It says one thing."


def test_program_of_thought_streams_its_sandbox_runs(sandbox: Any) -> None:
    from lmbench.modules import ProgramOfThought, SandboxRun

    lm = ScriptedLM(
        [
            answer(reasoning="Sum.", generated_code="```python\nprint(sum(range(k + 1)))\n```"),
            answer(reasoning="It printed 55.", answer="55"),
        ]
    )
    pot = ProgramOfThought("k: int -> answer: int", sandbox=sandbox, lm=lm)
    events = list(pot.stream(k=10))
    runs = [e for e in events if isinstance(e, SandboxRun)]
    assert [(r.module, r.phase) for r in runs] == [
        ("ProgramOfThought", "start"),
        ("ProgramOfThought", "end"),
    ]
    assert runs[0].code == "print(sum(range(k + 1)))"
    assert runs[1].stdout == "55\n" and runs[1].error is None
    assert runs[1].text == "ProgramOfThought · code ran: 55"
    assert events[-1].answer == 55
