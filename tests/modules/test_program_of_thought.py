"""ProgramOfThought with the ScriptedLM and a real sandbox: code, retries, answer, rendering."""

from __future__ import annotations

import pytest
from chat_answers import chat_answer as answer

from lmbench.errors import CodeFailed, ConfigError, SignatureError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.program_of_thought import ProgramOfThought
from lmbench.sandbox import Sandbox


def prompt(lm: ScriptedLM, number: int) -> str:
    return "\n".join(m.text for m in lm.requests[number].messages)


def test_writes_code_runs_it_and_answers_from_its_output(sandbox: Sandbox) -> None:
    lm = ScriptedLM(
        [
            answer(
                reasoning="Sum 1..n.", generated_code="```python\nprint(sum(range(k + 1)))\n```"
            ),
            answer(reasoning="The code printed 55.", answer="55"),
        ]
    )
    pot = ProgramOfThought("k: int -> answer: int", sandbox=sandbox, lm=lm)
    pred = pot(k=10)
    assert pred.answer == 55 and pred.reasoning == "The code printed 55."
    assert pred.code == "print(sum(range(k + 1)))"  # the fences are gone; k was set from the input
    assert pred.code_output == "stdout:\n55\n"
    assert [run.ok for run in pred.code_runs] == [True]
    assert "55" in prompt(lm, 1) and "print(sum(range(k + 1)))" in prompt(lm, 1)
    assert len(lm.requests) == 2


def test_a_failing_program_is_fixed_from_its_traceback(sandbox: Sandbox) -> None:
    lm = ScriptedLM(
        [
            answer(reasoning="r", generated_code="print(math.sqrt(k))"),
            answer(reasoning="import math", generated_code="import math\nprint(math.sqrt(k))"),
            answer(reasoning="r", answer="4.0"),
        ]
    )
    pred = ProgramOfThought("k: int -> answer: float", sandbox=sandbox, lm=lm)(k=16)
    assert pred.answer == 4.0
    first, second = pred.code_runs
    assert not first.ok and "NameError: name 'math' is not defined" in first.result.error
    assert second.ok and second.result.stdout == "4.0\n"
    fix_prompt = prompt(lm, 1)
    assert "NameError: name 'math' is not defined" in fix_prompt
    assert "print(math.sqrt(k))" in fix_prompt


def test_when_every_program_fails_the_runs_come_with_the_error(sandbox: Sandbox) -> None:
    lm = ScriptedLM(
        [
            answer(reasoning="r", generated_code="1/0"),
            answer(reasoning="r", generated_code=""),  # no code at all counts as a failure
        ]
    )
    pot = ProgramOfThought("k: int -> answer: int", max_iters=2, sandbox=sandbox, lm=lm)
    with pytest.raises(CodeFailed, match="all 2 programs failed") as caught:
        pot(k=1)
    runs = caught.value.runs
    assert "ZeroDivisionError" in runs[0].result.error
    assert runs[1].result.error == "the answer held no Python code"
    assert len(lm.requests) == 2


def test_each_call_starts_from_a_fresh_namespace(sandbox: Sandbox) -> None:
    lm = ScriptedLM(
        [
            answer(reasoning="r", generated_code="seen = k\nprint(seen)"),
            answer(reasoning="r", answer="1"),
            answer(reasoning="r", generated_code="print(seen)"),
            answer(reasoning="r", generated_code="print(k)"),
            answer(reasoning="r", answer="2"),
        ]
    )
    pot = ProgramOfThought("k: int -> answer: int", sandbox=sandbox, lm=lm)
    assert pot(k=1).answer == 1
    second = pot(k=2)
    assert "NameError: name 'seen' is not defined" in second.code_runs[0].result.error
    assert second.code_output == "stdout:\n2\n"


def test_the_module_starts_a_sandbox_of_its_own_when_given_none(sandbox: Sandbox) -> None:
    lm = ScriptedLM(
        [
            answer(reasoning="r", generated_code="print(text.upper())"),
            answer(reasoning="r", answer="HI"),
        ]
    )
    pot = ProgramOfThought("text -> answer", lm=lm)
    try:
        assert pot(text="hi").answer == "HI"
        assert pot.sandboxes.given is None
    finally:
        pot.sandboxes.close()


def test_predictions_render_their_code_runs(sandbox: Sandbox) -> None:
    lm = ScriptedLM(
        [
            answer(reasoning="r", generated_code="print('<i>' if k else 1/0)"),
            answer(reasoning="r", answer="ok"),
        ]
    )
    pred = ProgramOfThought("k: int -> answer", sandbox=sandbox, lm=lm)(k=1)
    html = pred._repr_html_()
    assert html is not None and "Code runs" in html
    assert "print(&#x27;&lt;i&gt;&#x27;" in html and "<i>" not in html
    from lmbench.notebook.render import text_for

    assert "Program 1: Sandbox run (ok" in (text_for(pred) or "")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(SignatureError, match="generated_code"):
        ProgramOfThought("generated_code -> answer")
    with pytest.raises(ConfigError, match="max_iters=0"):
        ProgramOfThought("q -> a", max_iters=0)
    with pytest.raises(ConfigError, match=r"give an lmbench\.Sandbox"):
        ProgramOfThought("q -> a", sandbox="yes")  # type: ignore[arg-type]


def test_a_stream_tells_which_step_runs(sandbox: Sandbox) -> None:
    from lmbench.modules import StepStarted

    lm = ScriptedLM(
        [
            answer(reasoning="r", generated_code="print(k / 0)"),
            answer(reasoning="r", generated_code="print(k)"),
            answer(reasoning="r", answer="3"),
        ]
    )
    events = list(ProgramOfThought("k: int -> answer: int", sandbox=sandbox, lm=lm).stream(k=3))
    steps = [(e.step, e.name) for e in events if isinstance(e, StepStarted)]
    assert steps == [(1, "write code"), (2, "fix the code"), (3, "write the outputs")]
    assert events[-1].answer == 3


def test_code_of_one_call_cannot_tamper_with_the_next(sandbox: Sandbox) -> None:
    """Patched builtins or a patched runner would survive a namespace cleared in place; each
    call gets a new interpreter."""
    patch = (
        "import builtins, _lmbench_runner\n"
        "builtins.print = lambda *args, **kwargs: None\n"
        '_lmbench_runner.run = lambda code, tools, limit: \'{"value": "forged"}\'\n'
    )
    for given in (sandbox, None):  # a sandbox given to the module, and a pool of its own
        lm = ScriptedLM(
            [
                answer(reasoning="r", generated_code=patch),
                answer(reasoning="r", answer="1"),
                answer(reasoning="r", generated_code="print(k * 10)"),
                answer(reasoning="r", answer="20"),
            ]
        )
        pot = ProgramOfThought("k: int -> answer: int", sandbox=given, lm=lm)
        try:
            pot(k=1)
            second = pot(k=2)
        finally:
            pot.sandboxes.close()
        assert second.code_output == "stdout:\n20\n"
        assert second.code_runs[0].result.value is None


def test_terminal_codes_and_markup_in_code_and_output_are_shown_not_obeyed(
    sandbox: Sandbox,
) -> None:
    from IPython.lib.pretty import pretty

    from lmbench.notebook.render_prediction import FullPrediction

    # raw escape codes in the code itself, and more that it prints
    hostile = "print('\x1b]0;owned\x07<script>alert(1)</script>\\r\\u202e\\x1b[2J')"
    lm = ScriptedLM(
        [
            answer(reasoning="r", generated_code=hostile),
            answer(reasoning="r", answer="ok"),
            answer(reasoning="r", generated_code="raise RuntimeError('\\x1b[2J<img src=x>')"),
        ]
    )
    pot = ProgramOfThought("k: int -> answer", max_iters=1, sandbox=sandbox, lm=lm)
    pred = pot(k=1)
    assert "\x1b" in pred.code_runs[0].result.stdout  # the data is kept as written
    for text in (pretty(FullPrediction(pred)), pretty(pred)):
        assert not any(c in text for c in "\x1b\x07\r\u202e"), text
    html = pred._repr_html_() or ""
    assert "<script>" not in html and "&lt;script&gt;" in html
    with pytest.raises(CodeFailed) as caught:
        pot(k=2)
    assert "\x1b" not in str(caught.value) and "\\x1b[2J<img src=x>" in str(caught.value)


def test_after_a_run_that_restarts_the_sandbox_the_inputs_are_set_again(sandbox: Sandbox) -> None:
    lm = ScriptedLM(
        [
            answer(reasoning="r", generated_code="while True:\n    pass"),
            answer(reasoning="r", generated_code="print(k * 2)"),
            answer(reasoning="r", answer="14"),
        ]
    )
    with Sandbox(timeout=1.5, memory_mb=128) as slow:
        pred = ProgramOfThought("k: int -> answer: int", sandbox=slow, lm=lm)(k=7)
    first, second = pred.code_runs
    assert first.result.timed_out and "timeout=1.5 s" in (first.result.error or "")
    assert second.ok and second.result.stdout == "14\n"
    assert pred.answer == 14
