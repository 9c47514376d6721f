"""A failing magic cell shows its error view exactly once, however often IPython formats it,
and still counts as failed."""

from __future__ import annotations

from typing import Any

import pytest

from lmbench.lm import ScriptedLM
from lmbench.notebook.problems import SILENT_TRACEBACK, CellProblem, is_one_magic
from lmbench.settings import configure

from .conftest import run_cell

FAILING_CELLS = [
    # a mistake in the cell: a MagicError view
    ('%%predict "question -> answer" -m nowhere/x\nquestion: q\n', "%%predict: error"),
    # an answer that does not parse: the AdapterParseError view
    ('%%predict "question -> answer: int" -a chat\nquestion: q\n', "Parse error"),
]


@pytest.fixture(autouse=True)
def _unparsable_answers() -> None:
    configure(lm=ScriptedLM([], default="[[ ## answer ## ]]\nfour\n\n[[ ## completed ## ]]"))


def _tracebacks(shell: Any, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """What the shell sends as the error output (ipykernel sends ``stb`` from here)."""
    sent: list[list[str]] = []
    monkeypatch.setattr(shell, "_showtraceback", lambda etype, value, stb: sent.append(stb))
    return sent


@pytest.mark.parametrize(("cell", "marker"), FAILING_CELLS)
def test_a_failing_cell_ends_with_its_error_view_alone(
    shell: Any, monkeypatch: pytest.MonkeyPatch, cell: str, marker: str
) -> None:
    sent = _tracebacks(shell, monkeypatch)
    run = run_cell(shell, cell)  # stores history, as a kernel does: IPython formats the error twice
    assert isinstance(run.error, CellProblem)  # the cell failed: Run All stops, nbval reports it
    # the error output was sent (nbval and nbclient see it) with the card's text, readable...
    assert len(sent) == 1 and marker.split(":")[0] in "\n".join(sent[0])
    # ...then cleared: what stays in the cell is the card, once, and nothing else
    assert len(run.outputs) == 1, [o.data.get("text/plain") for o in run.outputs]
    assert marker in run.outputs[0].data["text/html"]
    assert str(run.error) not in run.stderr


def test_in_a_mixed_cell_the_error_output_is_silent_and_nothing_is_cleared(
    shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent = _tracebacks(shell, monkeypatch)
    run = run_cell(shell, 'print("before")\n%lmbench nosuchcommand\n')
    assert isinstance(run.error, CellProblem)
    assert sent == [SILENT_TRACEBACK]
    assert "before" in run.stdout
    assert sum("lmbench" in o.data.get("text/html", "") for o in run.outputs) == 1


@pytest.mark.parametrize(
    ("source", "alone"),
    [
        ('%%predict "q -> a"\nq: hi', True),
        ("\n# a note\n%lmbench budget 0.01\n", True),
        ("%lmbench budget 0.01\nx = 1", False),
        ("x = 1\n%lmbench budget 0.01", False),
        ("", False),
    ],
)
def test_a_cell_is_one_magic_when_nothing_else_runs_in_it(source: str, alone: bool) -> None:
    assert is_one_magic(source) is alone


def test_the_error_output_is_text_in_a_terminal(shell: Any) -> None:
    formatter = shell.display_formatter
    before = formatter.active_types
    formatter.active_types = ["text/plain"]  # what terminal IPython shows
    try:
        assert CellProblem("%%predict", "the view", "x")._render_traceback_() == ["the view"]
    finally:
        formatter.active_types = before
