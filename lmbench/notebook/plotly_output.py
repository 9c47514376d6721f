"""Plotly figures that still show once a notebook is saved.

In a Jupyter kernel plotly's automatic renderer is ``plotly_mimetype``: JupyterLab draws it,
but the saved notebook then holds only plotly's JSON mimetype, which GitHub and nbviewer
cannot show. ``use_html_fallback`` makes figures carry an HTML copy too, which loads
plotly.js from its CDN (``plotly_mimetype+notebook_connected``): JupyterLab keeps using the
mimetype, static viewers use the HTML. It applies on ``%load_ext lmbench`` and on the first
``lmbench.plot`` chart. A renderer the user chose (with ``PLOTLY_RENDERER``, or by setting
``plotly.io.renderers.default`` to anything but plotly's automatic notebook choices) is
left alone.
"""

from __future__ import annotations

import os

__all__ = ["WITH_HTML_FALLBACK", "restore_renderer", "use_html_fallback"]

#: What plotly picks by itself in a Jupyter kernel, or in another IPython shell.
_AUTOMATIC = frozenset({"plotly_mimetype", "plotly_mimetype+notebook"})
WITH_HTML_FALLBACK = "plotly_mimetype+notebook_connected"

_replaced: str | None = None  # the automatic renderer use_html_fallback replaced


def use_html_fallback() -> None:
    """Give displayed figures an HTML fallback, unless the user chose a renderer."""
    global _replaced
    try:
        import plotly.io as pio
    except ImportError:  # plotly is an optional dependency: no figures, nothing to do
        return
    current = pio.renderers.default
    if os.environ.get("PLOTLY_RENDERER") or current not in _AUTOMATIC:
        return
    _replaced = current
    pio.renderers.default = WITH_HTML_FALLBACK


def restore_renderer() -> None:
    """Put back the renderer ``use_html_fallback`` replaced, if it is still in force."""
    global _replaced
    if _replaced is None:
        return
    import plotly.io as pio

    if pio.renderers.default == WITH_HTML_FALLBACK:
        pio.renderers.default = _replaced
    _replaced = None
