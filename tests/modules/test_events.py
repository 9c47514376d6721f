"""Status events: one readable line each, long values shortened."""

from __future__ import annotations

from lmbench.modules.events import (
    AttemptFinished,
    AttemptStarted,
    Notice,
    SandboxRun,
    StepStarted,
    ToolFinished,
    ToolStarted,
)


def test_each_event_reads_as_one_line() -> None:
    assert (
        StepStarted("Program", 2, 3, "Predict(a -> b)").text
        == "Program · step 2/3: Predict(a -> b)"
    )
    assert StepStarted("ReAct", 4, None, "extract").text == "ReAct · step 4: extract"
    assert (
        ToolStarted("ReAct", "search", {"q": "tides"}, 1).text
        == 'ReAct · running search({"q": "tides"})'
    )
    assert ToolFinished("ReAct", "search", "boom", True, 1).text == "ReAct · search failed: boom"
    assert AttemptStarted("Refine", 2, 3, "Be brief.").text == (
        "Refine · attempt 2/3 with advice: Be brief."
    )
    assert AttemptFinished("BestOfN", 1, 0.5).text == "BestOfN · attempt 1 reward 0.5"
    assert AttemptFinished("BestOfN", 1, None, "ValueError: x").text == (
        "BestOfN · attempt 1 failed: ValueError: x"
    )
    assert Notice("ReAct", "stagnation", "repeat").text == "ReAct · stagnation: repeat"


def test_sandbox_runs_read_by_phase_and_outcome() -> None:
    assert SandboxRun("ProgramOfThought", "start", "print(1)").text == (
        "ProgramOfThought · running code: print(1)"
    )
    assert SandboxRun("ProgramOfThought", "end", "print(1)", stdout="1\n").text == (
        "ProgramOfThought · code ran: 1"
    )
    failed = SandboxRun(
        "CodeAct", "end", "1/0", error="Traceback...\nZeroDivisionError: division by zero"
    )
    assert failed.text == "CodeAct · code failed: ZeroDivisionError: division by zero"
    assert (
        SandboxRun("CodeAct", "end", "while 1: pass", timed_out=True).text
        == "CodeAct · code timed out"
    )


def test_long_values_are_shortened_to_one_line() -> None:
    text = ToolFinished("ReAct", "read", "line\n" * 100, False, 1).text
    assert "\n" not in text and text.endswith("…") and len(text) < 160


def test_events_render_in_notebooks_as_their_line() -> None:
    event = ToolStarted("ReAct", "search", {"q": "<b>"}, 1)
    html = event._repr_html_()
    assert "running search({&quot;q&quot;: &quot;&lt;b&gt;&quot;})" in html
    assert 'style="' in html and "<b>" not in html
