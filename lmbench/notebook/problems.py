"""``CellProblem``: how a magic reports a mistake or a failed call without a long traceback.

IPython asks an exception for ``_render_traceback_`` before formatting one. One failure gets
one view: in a notebook, the rendered card (a short message pointing at the line at fault, or
a parse error with the failing region marked) and an error output that shows nothing, so the
cell still counts as failed (Run All stops, nbval reports it) without repeating the card in
red; where the front end shows only text (terminal IPython), the text of the card is the
traceback. A magic that already drew the card (over its live status line) marks it ``shown``.
"""

from __future__ import annotations

from typing import Any

from lmbench.errors import AdapterParseError, describe_error
from lmbench.notebook.cell_inputs import CellError
from lmbench.notebook.render_errors import MagicError
from lmbench.notebook.status import html_frontend

__all__ = ["SILENT_TRACEBACK", "CellProblem", "problem_from"]

#: An error output JupyterLab draws as nothing: an empty traceback would make it print
#: ``ename: evalue`` instead, i.e. the card's message a second time.
SILENT_TRACEBACK = ["\x1b[0m"]


class CellProblem(Exception):
    """A magic could not do what the cell asked; ``view`` is what the notebook shows."""

    def __init__(self, magic: str, view: Any, summary: str) -> None:
        super().__init__(summary)
        self.magic = magic
        self.view = view
        self.shown = False

    def _render_traceback_(self) -> list[str]:
        """Show the view once: IPython asks again when it stores the error in its history."""
        from IPython import get_ipython

        if not html_frontend(get_ipython()):
            return [_text_of(self.view)]
        if not self.shown:
            from IPython.display import display

            display(self.view)
            self.shown = True
        return list(SILENT_TRACEBACK)


def _text_of(view: Any) -> str:
    from lmbench.notebook.render import text_for

    found = text_for(view)
    return found if found is not None else str(view)


def problem_from(magic: str, error: Exception) -> CellProblem:
    """Wrap a cell mistake or an lmbench error raised while running the cell."""
    if isinstance(error, CellError):
        view: Any = MagicError(magic, error.message, error.source, error.line)
        return CellProblem(magic, view, error.message)
    if isinstance(error, AdapterParseError):
        return CellProblem(magic, error, f"{error.adapter} could not parse the answer")
    message = describe_error(error)
    return CellProblem(magic, MagicError(magic, message), message)
