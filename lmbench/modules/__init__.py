"""Modules: programs that call LMs through adapters.

Names are imported on first use: ``lmbench.Predict`` loads Predict and what it needs, not
ReAct, KNN, the code sandbox or retrieval.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "Module": "lmbench.modules.base",
    "BestOfN": "lmbench.modules.best_of_n",
    "Rollout": "lmbench.modules.best_of_n",
    "ChainOfThought": "lmbench.modules.chain_of_thought",
    "CodeAct": "lmbench.modules.code_act",
    "CodeRun": "lmbench.modules.code_runs",
    "AttemptFinished": "lmbench.modules.events",
    "AttemptStarted": "lmbench.modules.events",
    "Notice": "lmbench.modules.events",
    "SandboxRun": "lmbench.modules.events",
    "StatusEvent": "lmbench.modules.events",
    "StepStarted": "lmbench.modules.events",
    "ToolFinished": "lmbench.modules.events",
    "ToolStarted": "lmbench.modules.events",
    "KNN": "lmbench.modules.knn",
    "MultiChainComparison": "lmbench.modules.multi_chain",
    "ItemError": "lmbench.modules.parallel",
    "Parallel": "lmbench.modules.parallel",
    "ParallelResults": "lmbench.modules.parallel",
    "parallel_map": "lmbench.modules.parallel",
    "Predict": "lmbench.modules.predict",
    "Program": "lmbench.modules.program",
    "ProgramOfThought": "lmbench.modules.program_of_thought",
    "ReAct": "lmbench.modules.react",
    "ReActStep": "lmbench.modules.react",
    "Refine": "lmbench.modules.refine",
    "Retrieve": "lmbench.modules.retrieve",
    "report": "lmbench.modules.running",
    "Streamed": "lmbench.modules.streaming",
    "streamify": "lmbench.modules.streaming",
    "TypedProgram": "lmbench.modules.typed",
    "typed": "lmbench.modules.typed",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'lmbench.modules' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:
    from lmbench.modules.base import Module
    from lmbench.modules.best_of_n import BestOfN, Rollout
    from lmbench.modules.chain_of_thought import ChainOfThought
    from lmbench.modules.code_act import CodeAct
    from lmbench.modules.code_runs import CodeRun
    from lmbench.modules.events import (
        AttemptFinished,
        AttemptStarted,
        Notice,
        SandboxRun,
        StatusEvent,
        StepStarted,
        ToolFinished,
        ToolStarted,
    )
    from lmbench.modules.knn import KNN
    from lmbench.modules.multi_chain import MultiChainComparison
    from lmbench.modules.parallel import ItemError, Parallel, ParallelResults, parallel_map
    from lmbench.modules.predict import Predict
    from lmbench.modules.program import Program
    from lmbench.modules.program_of_thought import ProgramOfThought
    from lmbench.modules.react import ReAct, ReActStep
    from lmbench.modules.refine import Refine
    from lmbench.modules.retrieve import Retrieve
    from lmbench.modules.running import report
    from lmbench.modules.streaming import Streamed, streamify
    from lmbench.modules.typed import TypedProgram, typed
