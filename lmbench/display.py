"""``RichDisplay``: gives lmbench's user-facing types their notebook renderings.

The methods import the renderers only when a notebook asks for them, so the core never
loads notebook code on its own, and saved notebooks keep their HTML outputs whether or not
``%load_ext lmbench`` was run.
"""

from __future__ import annotations

from typing import Any

__all__ = ["NO_MATH", "RichDisplay"]

#: Classes that make MathJax 2 and 3 leave an element's text alone: JupyterLab typesets
#: ``$...$`` in HTML outputs, and a dollar amount must never turn into italic math.
NO_MATH = "tex2jax_ignore mathjax_ignore"


class RichDisplay:
    """Mixin: ``_repr_html_`` (static HTML) and ``_repr_pretty_`` (IPython's plain text)."""

    __slots__ = ()

    def _repr_html_(self) -> str | None:
        from lmbench.notebook.render import html_for  # the notebook layer sits above: load on use

        return html_for(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from lmbench.notebook.render import text_for  # the notebook layer sits above: load on use

        printer.text(repr(self) if cycle else text_for(self) or repr(self))
