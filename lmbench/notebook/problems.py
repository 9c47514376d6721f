"""``CellProblem``: how a magic reports a mistake or a failed call without a long traceback.

IPython asks an exception for ``_render_traceback_`` before formatting one: this one displays
its rendered view (a short message pointing at the line at fault, or a parse error with the
failing region marked) and leaves a one-line traceback, so the cell still counts as failed
(Run All stops, nbval reports it) but reads like a message, not a stack.
"""

from __future__ import annotations

from typing import Any

from lmbench.errors import AdapterParseError, describe_error
from lmbench.notebook.cell_inputs import CellError
from lmbench.notebook.render_errors import MagicError

__all__ = ["CellProblem", "problem_from"]


class CellProblem(Exception):
    """A magic could not do what the cell asked; ``view`` is what the notebook shows."""

    def __init__(self, magic: str, view: Any, summary: str) -> None:
        super().__init__(summary)
        self.magic = magic
        self.view = view
        self._shown = False

    def _render_traceback_(self) -> list[str]:
        """Show the view once: IPython asks again when it stores the error in its history."""
        if not self._shown:
            from IPython.display import display

            display(self.view)
            self._shown = True
        return [f"{self.magic} did not complete: {self}"]


def problem_from(magic: str, error: Exception) -> CellProblem:
    """Wrap a cell mistake or an lmbench error raised while running the cell."""
    if isinstance(error, CellError):
        view: Any = MagicError(magic, error.message, error.source, error.line)
        return CellProblem(magic, view, error.message)
    if isinstance(error, AdapterParseError):
        return CellProblem(magic, error, f"{error.adapter} could not parse the answer")
    message = describe_error(error)
    return CellProblem(magic, MagicError(magic, message), message)
