"""A failing magic cell shows its error view exactly once, however often IPython formats it."""

from __future__ import annotations

from typing import Any

import pytest

from lmbench.lm import ScriptedLM
from lmbench.notebook.problems import CellProblem
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
    assert len(run.outputs) == 1


def test_the_one_line_traceback_is_kept_each_time(shell: Any) -> None:
    problem = CellProblem("%%predict", "the view", "it failed")
    assert problem._render_traceback_() == problem._render_traceback_()
    assert problem._render_traceback_() == ["%%predict did not complete: it failed"]
