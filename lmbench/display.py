"""``RichDisplay``: gives lmbench's user-facing types their notebook renderings.

The methods import the renderers only when a notebook asks for them, so the core never
loads notebook code on its own, and saved notebooks keep their HTML outputs whether or not
``%load_ext lmbench`` was run.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["NO_MATH", "RichDisplay", "printable"]

#: Classes that make MathJax 2 and 3 leave an element's text alone: JupyterLab typesets
#: ``$...$`` in HTML outputs, and a dollar amount must never turn into italic math.
NO_MATH = "tex2jax_ignore mathjax_ignore"

# C0 and C1 controls but newline and tab, and the Unicode marks that reorder text on screen
_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters (escape sequences that move the
    cursor, clear the screen or retitle the window, a carriage return that hides a line) and
    bidirectional overrides are shown escaped (``\\x1b``, ``\\r``, ``\\u202e``), so text a
    model or sandboxed code wrote is seen as it is, never obeyed. Newlines and tabs are kept."""
    return _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


class RichDisplay:
    """Mixin: ``_repr_html_`` (static HTML) and ``_repr_pretty_`` (IPython's plain text)."""

    __slots__ = ()

    def _repr_html_(self) -> str | None:
        from lmbench.notebook.render import html_for  # the notebook layer sits above: load on use

        return html_for(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        from lmbench.notebook.render import text_for  # the notebook layer sits above: load on use

        printer.text(printable(repr(self) if cycle else text_for(self) or repr(self)))
