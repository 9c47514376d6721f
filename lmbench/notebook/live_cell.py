"""Running a magic's work under a live status line that becomes the cell's result.

``run_in_cell`` shows the status line at once, lets the work report into it (and lmbench's
call events through ``LiveStatus.watch``), then draws, in the same place, the result or the
error card: one output per cell, whatever happens. The result is still the cell's value
(``Out[n]``, ``_``), as if the cell had returned it. Where the front end shows no HTML the
work simply runs and its result is returned for IPython to print.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lmbench.notebook.cell_inputs import CellError
from lmbench.notebook.problems import problem_from
from lmbench.notebook.status import LiveStatus, cell_status

__all__ = ["SHOWN", "remember_output", "run_in_cell"]

#: Returned by ``run_in_cell`` when the result is already on show (the magic returns None).
SHOWN = object()


def remember_output(shell: Any, value: Any) -> None:
    """Make ``value`` the cell's output (``Out[n]``, ``_``) though it was displayed, not returned."""
    hook = getattr(shell, "displayhook", None)
    if hook is None or value is None:
        return
    hook.update_user_ns(value)
    hook.fill_exec_result(value)


def run_in_cell(
    shell: Any,
    magic: str,
    what: str,
    work: Callable[[LiveStatus | None], Any],
    *,
    view: Callable[[Any], Any] = lambda result: result,
) -> Any:
    """``work(status)``'s result; ``SHOWN`` when it was drawn over the status line.

    ``view`` turns the result into what the cell shows (e.g. a response in a chosen format).
    Cell mistakes and lmbench errors become a ``CellProblem`` whose card replaced the status.
    """
    from lmbench.errors import LMBenchError

    status = cell_status(shell, what)
    if status is None:
        return work(None)
    status.start()
    try:
        with status.watch():
            result = work(status)
    except (CellError, LMBenchError) as exc:
        problem = problem_from(magic, exc)
        status.finish(problem.view)
        problem.shown = True
        raise problem from None
    except BaseException:
        status.finish(status.summary("stopped: see the error below"))
        raise
    status.finish(view(result))
    remember_output(shell, result)
    return SHOWN
