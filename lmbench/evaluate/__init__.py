"""Evaluation over data: ``evaluate``, ``batch``, ``compare``, runs in history, few-shot
compilation, and the executors that run rows (threads, Dask).

``lmbench.evaluate(program, data, metric)`` works whether the name refers to this package
or to the function: the package is callable and calls ``evaluate``. Nothing here imports
pandas or plotly until a frame or a chart is asked for.
"""

import sys
import types
from typing import Any

from lmbench.evaluate.compare import Comparison, compare
from lmbench.evaluate.fewshot import BootstrapFewShot, LabeledFewShot
from lmbench.evaluate.knn_fewshot import KNNFewShot, NearestDemos
from lmbench.evaluate.result import BatchResult, EvalResult, RowError, RunTotals
from lmbench.evaluate.rows import RowResult
from lmbench.evaluate.runner import batch, evaluate
from lmbench.evaluate.runs import load_run, runs


class _CallablePackage(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> EvalResult:
        return evaluate(*args, **kwargs)

    __call__.__doc__ = evaluate.__doc__


sys.modules[__name__].__class__ = _CallablePackage

__all__ = [
    "BatchResult",
    "BootstrapFewShot",
    "Comparison",
    "EvalResult",
    "KNNFewShot",
    "LabeledFewShot",
    "NearestDemos",
    "RowError",
    "RowResult",
    "RunTotals",
    "batch",
    "compare",
    "evaluate",
    "load_run",
    "runs",
]
