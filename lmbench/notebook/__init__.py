"""The Jupyter layer: ``%%predict`` and ``%lmbench`` magics, HTML renderers, widgets, charts.

``%load_ext lmbench`` registers the magics and displays. The other pieces are plain Python:
``playground(signature)``, ``history_browser()``, the ``plot`` charts, ``compare_models``
(``run_over`` is the deprecated name of ``lmbench.batch``). IPython, ipywidgets, pandas and plotly are imported only when
one of them is used.
"""

from lmbench.notebook import plot
from lmbench.notebook.batch import Comparison, compare_models, run_over
from lmbench.notebook.history_browser import HistoryBrowser, history_browser
from lmbench.notebook.playground import Playground, playground
from lmbench.notebook.predict_magic import register_module

__all__ = [
    "Comparison",
    "HistoryBrowser",
    "Playground",
    "compare_models",
    "history_browser",
    "playground",
    "plot",
    "register_module",
    "run_over",
]
