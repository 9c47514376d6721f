"""``%load_ext lmbench``: registers the magics, the HTML and text displays, gives plotly figures
an HTML fallback for saved notebooks, remembers the last prediction a cell produced (for
``%lmbench last``), and leaves a failed magic cell with its error card alone (see
``lmbench.notebook.problems``). ``%unload_ext lmbench`` undoes it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lmbench.notebook import lmbench_magic, plotly_output, predict_magic
from lmbench.notebook.problems import clear_error_output, note_cell
from lmbench.notebook.render import RENDERERS
from lmbench.notebook.state import LastPrediction

__all__ = ["load", "unload"]


def _remember_result(result: Any) -> None:
    LastPrediction.remember(getattr(result, "result", None))


#: IPython events and the hooks lmbench keeps on them while it is loaded.
_HOOKS = (
    ("pre_run_cell", note_cell),
    ("post_run_cell", _remember_result),
    ("post_run_cell", clear_error_output),
)


def _pretty(render: Callable[[Any], str]) -> Callable[[Any, Any, bool], None]:
    def printer(obj: Any, p: Any, cycle: bool) -> None:
        p.text(repr(obj) if cycle else render(obj))

    return printer


def load(ipython: Any) -> None:
    def predict(line: str, cell: str) -> Any:
        return predict_magic.run_predict(ipython, line, cell)

    def lmbench(line: str) -> Any:
        return lmbench_magic.run_lmbench(line)

    predict.__doc__ = predict_magic.__doc__
    lmbench.__doc__ = lmbench_magic.__doc__
    ipython.register_magic_function(predict, magic_kind="cell", magic_name="predict")
    ipython.register_magic_function(lmbench, magic_kind="line", magic_name="lmbench")
    formatters = ipython.display_formatter.formatters
    for renderer in RENDERERS:
        formatters["text/html"].for_type_by_name(renderer.module, renderer.name, renderer.html)
        formatters["text/plain"].for_type_by_name(
            renderer.module, renderer.name, _pretty(renderer.text)
        )
    for event, hook in _HOOKS:
        if hook not in ipython.events.callbacks[event]:
            ipython.events.register(event, hook)
    plotly_output.use_html_fallback()


def unload(ipython: Any) -> None:
    magics = ipython.magics_manager.magics
    magics["cell"].pop("predict", None)
    magics["line"].pop("lmbench", None)
    formatters = ipython.display_formatter.formatters
    for renderer in RENDERERS:
        for mime in ("text/html", "text/plain"):
            formatters[mime].pop(f"{renderer.module}.{renderer.name}", None)
    for event, hook in _HOOKS:
        if hook in ipython.events.callbacks[event]:
            ipython.events.unregister(event, hook)
    plotly_output.restore_renderer()
