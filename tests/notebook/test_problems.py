"""A failing magic cell shows its error view exactly once, however often IPython formats it."""

from __future__ import annotations

from typing import Any

import pytest

from lmbench.lm import ScriptedLM
from lmbench.notebook.problems import SILENT_TRACEBACK, CellProblem
from lmbench.settings import configure

from .conftest import run_cell

FAILING_CELLS = [
    # a mistake in the cell: a MagicError view
    ('%%predict "question -> answer" -m nowhere/x\nquestion: q\n', "%%predict: error"),
    # an answer that does not parse: the AdapterParseError view
    ('%%predict "question -> answer: int" -a chat\nquestion: q\n', "Parse error"),
]


@pytest.mark.parametrize(("cell", "marker"), FAILING_CELLS)
def test_a_failing_cell_displays_its_error_view_once(shell: Any, cell: str, marker: str) -> None:
    configure(lm=ScriptedLM([], default="[[ ## answer ## ]]\nfour\n\n[[ ## completed ## ]]"))
    run = run_cell(shell, cell)  # stores history, as a kernel does: IPython formats the error twice
    assert isinstance(run.error, CellProblem)
    views = [o for o in run.outputs if marker in o.data.get("text/html", "")]
    assert len(views) == 1
    # every output is the one display (the status line, then the card drawn over it)
    assert len({o.transient.get("display_id") for o in run.outputs if o.transient}) <= 1
    assert str(run.error) not in run.stdout + run.stderr  # the error output repeats nothing


def test_the_error_output_is_silent_in_a_notebook_and_text_in_a_terminal(shell: Any) -> None:
    problem = CellProblem("%%predict", "the view", "it failed")
    assert problem._render_traceback_() == problem._render_traceback_() == SILENT_TRACEBACK
    formatter = shell.display_formatter
    before = formatter.active_types
    formatter.active_types = ["text/plain"]  # what terminal IPython shows
    try:
        assert CellProblem("%%predict", "the view", "x")._render_traceback_() == ["the view"]
    finally:
        formatter.active_types = before
