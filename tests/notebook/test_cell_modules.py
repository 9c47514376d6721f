"""``%%predict --module``: ReAct with notebook tools, BestOfN/Refine with a notebook reward,
ProgramOfThought resolved lazily, and status lines while streaming."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from lmbench.lm import ScriptedLM
from lmbench.primitives import Prediction
from lmbench.settings import configure

from .conftest import chat_answer, run_cell


def temperature(city: str) -> int:
    """The temperature of a city."""
    return {"Paris": 21}[city]


def react_lm() -> ScriptedLM:
    return ScriptedLM(
        [
            chat_answer(
                next_thought="Look it up.",
                next_tool_name="temperature",
                next_tool_args=json.dumps({"city": "Paris"}),
            ),
            chat_answer(next_thought="Done.", next_tool_name="finish", next_tool_args="{}"),
            chat_answer(reasoning="The tool said 21.", answer="21"),
        ]
    )


@pytest.fixture
def react_shell(shell: Any) -> Any:
    """The notebook with ``temperature`` defined and an LM scripted for one ReAct run."""
    configure(lm=react_lm())
    shell.user_ns["temperature"] = temperature
    return shell


def test_react_uses_tools_named_from_the_notebook(react_shell: Any) -> None:
    run = run_cell(
        react_shell,
        '%%predict "question -> answer: int" --module react --tools temperature --max-iters 3\n'
        "question: How warm is Paris?\n",
    )
    assert run.error is None, run.error
    pred = run.result
    assert isinstance(pred, Prediction) and pred.answer == 21
    assert [s.tool_name for s in pred.trajectory] == ["temperature", "finish"]
    assert pred.call.module == "ReAct"


def test_stream_shows_which_step_and_tool_run(react_shell: Any) -> None:
    run = run_cell(
        react_shell,
        '%%predict "question -> answer: int" --module react --tools temperature --stream '
        "--out pred\nquestion: How warm is Paris?\n",
    )
    assert run.error is None, run.error
    views = [o.data.get("text/html", "") for o in run.outputs if getattr(o, "transient", None)]
    assert any(
        "ReAct · running temperature({&quot;city&quot;: &quot;Paris&quot;})" in v for v in views
    )
    assert any("ReAct · temperature returned: 21" in v for v in views)
    assert any("ReAct · step 2/5: step" in v for v in views)
    assert react_shell.user_ns["pred"].answer == 21


def test_best_of_n_and_refine_use_a_reward_from_the_notebook(shell: Any) -> None:
    def is_paris(inputs: dict[str, Any], pred: Any) -> float:
        return float(pred.answer == "Paris")

    shell.user_ns["is_paris"] = is_paris
    configure(lm=ScriptedLM([chat_answer(answer="Lyon"), chat_answer(answer="Paris")]))
    run = run_cell(
        shell,
        '%%predict "question -> answer" --module best_of_n --reward is_paris --attempts 3\n'
        "question: Capital of France?\n",
    )
    assert run.error is None, run.error
    assert run.result.answer == "Paris" and len(run.result.rollouts) == 2

    configure(
        lm=ScriptedLM(
            [
                chat_answer(answer="Lyon"),
                chat_answer(advice="Name the capital."),
                chat_answer(answer="Paris"),
            ]
        )
    )
    run = run_cell(
        shell,
        '%%predict "question -> answer" --module refine --reward is_paris --attempts 2 --stream\n'
        "question: Capital of France?\n",
    )
    assert run.error is None, run.error
    views = [o.data.get("text/html", "") for o in run.outputs if getattr(o, "transient", None)]
    assert any("Refine · attempt 2/2 with advice: Name the capital." in v for v in views)


def test_pot_is_resolved_when_used_and_says_clearly_when_unavailable(
    shell: Any, lm: ScriptedLM, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "lmbench.modules.program_of_thought", None)
    run = run_cell(shell, '%%predict "question -> answer" --module pot\nquestion: 2 + 2?\n')
    assert run.error is not None
    assert "--module pot needs ProgramOfThought" in run.html()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ("--module react", "--module react needs tools: --tools f1,f2"),
        ("--module react --tools nowhere", "--tools nowhere: no variable named"),
        ("--module react --tools number", "--tools number: int is not a function"),
        ("--module best_of_n", "--module best_of_n needs --reward VAR"),
        ("--module refine --reward number", "--reward number: int is not a function"),
        ("--module best_of_n --reward f --attempts 0", "--attempts 0: use 1 or more"),
        ("--module tree", "known: best_of_n, cot, pot, predict, react, refine"),
    ],
)
def test_module_option_mistakes_are_named(
    shell: Any, lm: ScriptedLM, options: str, message: str
) -> None:
    shell.user_ns.update(number=3, f=lambda inputs, pred: 1.0)
    run = run_cell(shell, f'%%predict "question -> answer" {options}\nquestion: q\n')
    assert run.error is not None
    import html

    assert html.escape(message, quote=True) in run.html()
    assert lm.requests == []


def test_prompt_shows_the_first_prompt_of_react_and_best_of_n(shell: Any, lm: ScriptedLM) -> None:
    shell.user_ns.update(temperature=temperature, f=lambda inputs, pred: 1.0)
    run = run_cell(
        shell,
        '%%predict "question -> answer" --module react --tools temperature --prompt\nquestion: q\n',
    )
    assert run.error is None, run.error
    assert "next_tool_name" in run.result.text and "(no steps yet)" in run.result.text
    run = run_cell(
        shell, '%%predict "question -> answer" --module refine --reward f --prompt\nquestion: q\n'
    )
    assert run.error is None, run.error
    assert "hint" in run.result.text
    assert lm.requests == []


def test_prompt_of_a_module_that_cannot_show_it_is_a_clear_error(
    shell: Any, lm: ScriptedLM
) -> None:
    from lmbench.modules import Module
    from lmbench.notebook import register_module

    class Opaque(Module):
        def __init__(self, signature: Any, **options: Any) -> None:
            pass

    register_module("opaque", Opaque)
    try:
        run = run_cell(
            shell, '%%predict "question -> answer" --module opaque --prompt\nquestion: q'
        )
    finally:
        from lmbench.notebook.predict_magic import MODULES

        MODULES.pop("opaque")
    assert run.error is not None
    assert "--module opaque cannot show its prompt before it runs" in run.html()


def test_pot_runs_code_in_the_sandbox_and_streams_its_runs(shell: Any) -> None:
    from lmbench.errors import SandboxUnavailable
    from lmbench.sandbox import Sandbox

    try:
        Sandbox(timeout=5).close()
    except SandboxUnavailable as exc:
        pytest.skip(f"the code sandbox is not installed here ({exc})")
    configure(
        lm=ScriptedLM(
            [
                chat_answer(reasoning="Add.", generated_code="print(2 + 2)"),
                chat_answer(reasoning="It printed 4.", answer="4"),
            ]
        )
    )
    run = run_cell(
        shell,
        '%%predict "question -> answer: int" --module pot --stream --out pred\nquestion: 2+2?\n',
    )
    assert run.error is None, run.error
    views = [o.data.get("text/html", "") for o in run.outputs if getattr(o, "transient", None)]
    assert any("ProgramOfThought · running code: print(2 + 2)" in v for v in views)
    assert any("ProgramOfThought · code ran: 4" in v for v in views)
    assert shell.user_ns["pred"].answer == 4
