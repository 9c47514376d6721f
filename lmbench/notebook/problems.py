"""``CellProblem``: how a magic reports a mistake or a failed call without a long traceback.

One failure gets one view, the rendered card (a short message pointing at the line at fault,
or a parse error with the failing region marked), and the cell still counts as failed: Run All
stops, nbval and nbclient report it.

A notebook draws every ``error`` output as a red stderr area (an empty traceback even prints
``ename: evalue``), so an error output under the card is either a second copy of the message
or a thin red strip. IPython's own ``set_custom_exc`` would keep the error output away, but
then no ``error`` message is sent at all and nbval passes the failing cell. So the error is
sent as usual, with the card's text as its traceback (what nbval, nbclient and
``jupyter nbconvert`` print), and once the cell has run ``clear_error_output`` replaces the
cell's outputs with the card alone (``clear_output(wait=True)`` then the card, drawn in one
step): a live notebook and the saved file hold the card only, with its text form for viewers
without HTML (what the magic showed before it failed, a progress line, fields streamed so far,
a tool's prints, gives way to it). That is done only when the cell is the magic alone
(``%%predict ...``, or a single ``%lmbench ...`` line), so no output of other code is cleared;
in a mixed cell the error output stays silent (a bare reset code) under the card. Where the front end shows only
text (terminal IPython), the text of the card is the traceback.
"""

from __future__ import annotations

from typing import Any

from lmbench.errors import AdapterParseError, describe_error
from lmbench.notebook.cell_inputs import CellError
from lmbench.notebook.render_errors import MagicError
from lmbench.notebook.status import html_frontend

__all__ = [
    "SILENT_TRACEBACK",
    "CellProblem",
    "clear_error_output",
    "is_one_magic",
    "note_cell",
    "problem_from",
]

#: The traceback of an error output in a mixed cell, drawn as (almost) nothing: an empty
#: traceback would make JupyterLab print ``ename: evalue``, the card's message a second time.
SILENT_TRACEBACK = ["\x1b[0m"]


class _RunningCell:
    """Whether the cell now running is one magic alone (set before each cell runs)."""

    alone = False


def is_one_magic(source: str) -> bool:
    """A cell magic, or a single line magic with nothing else but blank lines and comments."""
    lines = [
        line.strip()
        for line in source.splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    if not lines:
        return False
    return lines[0].startswith("%%") or (len(lines) == 1 and lines[0].startswith("%"))


def note_cell(info: Any) -> None:
    """IPython's ``pre_run_cell`` hook: remember whether the cell is one magic alone."""
    _RunningCell.alone = is_one_magic(getattr(info, "raw_cell", None) or "")


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

        text = _text_of(self.view)
        if not html_frontend(get_ipython()):
            return [text]
        if not self.shown:
            from IPython.display import display

            display(self.view)
            self.shown = True
        return [text] if _RunningCell.alone else list(SILENT_TRACEBACK)


def clear_error_output(result: Any) -> None:
    """IPython's ``post_run_cell`` hook: a magic cell that failed keeps its card alone."""
    error = getattr(result, "error_in_exec", None)
    if not isinstance(error, CellProblem) or not _RunningCell.alone:
        return
    from IPython import get_ipython

    if not html_frontend(get_ipython()):
        return
    from IPython.display import clear_output, display

    clear_output(wait=True)
    display(error.view)


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
