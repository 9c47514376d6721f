"""Modules: programs that call LMs through adapters."""

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

__all__ = [
    "KNN",
    "AttemptFinished",
    "AttemptStarted",
    "BestOfN",
    "ChainOfThought",
    "CodeAct",
    "CodeRun",
    "ItemError",
    "Module",
    "MultiChainComparison",
    "Notice",
    "Parallel",
    "ParallelResults",
    "Predict",
    "Program",
    "ProgramOfThought",
    "ReAct",
    "ReActStep",
    "Refine",
    "Retrieve",
    "Rollout",
    "SandboxRun",
    "StatusEvent",
    "StepStarted",
    "Streamed",
    "ToolFinished",
    "ToolStarted",
    "TypedProgram",
    "parallel_map",
    "report",
    "streamify",
    "typed",
]
