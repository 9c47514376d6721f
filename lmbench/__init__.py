"""lmbench: declarative LM programs, with a notebook workbench.

State what goes in and what comes out (a signature), pick a module, and lmbench writes the
prompt, calls the model, parses and validates the answer, and records every call::

    import lmbench
    qa = lmbench.Predict("question -> answer: int")
    qa(question="How many legs has a spider?").answer

Names are imported on first use, so ``import lmbench`` stays fast.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING, Any

from lmbench.deprecation import Moved, MovedModule

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # signatures and values
    "Signature": "lmbench.signatures",
    "InputField": "lmbench.signatures",
    "OutputField": "lmbench.signatures",
    "Example": "lmbench.primitives",
    "Prediction": "lmbench.primitives",
    "Conversation": "lmbench.primitives",
    "Image": "lmbench.media",
    "Audio": "lmbench.media",
    "Document": "lmbench.media",
    "Citations": "lmbench.media",
    # modules
    "Module": "lmbench.modules",
    "Predict": "lmbench.modules",
    "ChainOfThought": "lmbench.modules",
    "typed": "lmbench.modules",
    "ReAct": "lmbench.modules",
    "BestOfN": "lmbench.modules",
    "Refine": "lmbench.modules",
    "Parallel": "lmbench.modules",
    "parallel_map": "lmbench.modules",
    "MultiChainComparison": "lmbench.modules",
    "Program": "lmbench.modules",
    "streamify": "lmbench.modules",
    "ProgramOfThought": "lmbench.modules",
    "CodeAct": "lmbench.modules",
    "Tool": "lmbench.tools",
    "Retrieve": "lmbench.modules",
    "KNN": "lmbench.modules",
    # retrieval
    "Embedder": "lmbench.retrieval",
    "VectorIndex": "lmbench.retrieval",
    "Sandbox": "lmbench.sandbox",
    "SandboxResult": "lmbench.sandbox",
    # adapters
    "ChatAdapter": "lmbench.adapters",
    "JSONAdapter": "lmbench.adapters",
    "XMLAdapter": "lmbench.adapters",
    "TwoStepAdapter": "lmbench.adapters",
    "FallbackAdapter": "lmbench.adapters",
    # evaluation over data
    "batch": "lmbench.evaluate",
    "compare": "lmbench.evaluate",
    "EvalResult": "lmbench.evaluate",
    "BatchResult": "lmbench.evaluate",
    "LabeledFewShot": "lmbench.evaluate",
    "BootstrapFewShot": "lmbench.evaluate",
    "KNNFewShot": "lmbench.evaluate",
    "load_run": "lmbench.evaluate",
    # LMs
    "LM": "lmbench.lm",
    "BaseLM": "lmbench.lm",
    "ScriptedLM": "lmbench.lm",
    "resolve_lm": "lmbench.lm",
    "register_provider": "lmbench.lm",
    # settings
    "configure": "lmbench.settings",
    "context": "lmbench.settings",
    # observability
    "history": "lmbench.observe.history",
    "load_history": "lmbench.observe.history",
    "budget": "lmbench.calls.budget",
    "Callback": "lmbench.calls.callbacks",
    "cache": "lmbench.lm.cache",
    # notebook workbench, record/replay
    "playground": "lmbench.notebook",
    "history_browser": "lmbench.notebook",
    "plot": "lmbench.notebook",
    "replay": "lmbench.lm.replay",
    # errors
    "LMBenchError": "lmbench.errors",
    "ConfigError": "lmbench.errors",
    "SignatureError": "lmbench.errors",
    "InputError": "lmbench.errors",
    "AdapterParseError": "lmbench.errors",
    "ProviderError": "lmbench.errors",
    "AuthenticationError": "lmbench.errors",
    "RateLimitError": "lmbench.errors",
    "ProviderTimeout": "lmbench.errors",
    "ProviderConnectionError": "lmbench.errors",
    "ReplayMissError": "lmbench.errors",
    "BudgetExceeded": "lmbench.errors",
    "RunsFailed": "lmbench.errors",
    "CodeFailed": "lmbench.errors",
    "ToolError": "lmbench.errors",
    "SandboxError": "lmbench.errors",
    "SandboxUnavailable": "lmbench.errors",
}

# public submodules, imported on first use; ``lmbench.evaluate`` is a callable package
# (``lmbench.evaluate(program, data, metric)``), so the name means the same thing whichever
# import came first
_SUBMODULES = frozenset({"metrics", "evaluate"})

__all__ = sorted([*_EXPORTS, *_SUBMODULES, "load_ipython_extension", "unload_ipython_extension"])


# Old module paths and names that keep working for one release (0.2 renamed them).
_MOVED_MODULES = {"types": "lmbench.media", "primitives.history": "lmbench.primitives"}
for _old, _new in _MOVED_MODULES.items():
    sys.modules.setdefault(f"{__name__}.{_old}", MovedModule(f"{__name__}.{_old}", _new))
_MOVED = Moved(__name__, {"History": "lmbench.primitives.conversation:Conversation"})


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"lmbench.{name}")
    if name in _MOVED_MODULES:
        return sys.modules[f"{__name__}.{name}"]
    if name in _MOVED:
        return _MOVED.load(name)
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module 'lmbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return __all__


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext lmbench``: registers the magics and the rich displays."""
    from lmbench.notebook.extension import load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from lmbench.notebook.extension import unload

    unload(ipython)


if TYPE_CHECKING:
    from lmbench import metrics
    from lmbench.adapters import (
        ChatAdapter,
        FallbackAdapter,
        JSONAdapter,
        TwoStepAdapter,
        XMLAdapter,
    )
    from lmbench.calls.budget import budget
    from lmbench.calls.callbacks import Callback
    from lmbench.errors import (
        AdapterParseError,
        AuthenticationError,
        BudgetExceeded,
        CodeFailed,
        ConfigError,
        InputError,
        LMBenchError,
        ProviderConnectionError,
        ProviderError,
        ProviderTimeout,
        RateLimitError,
        ReplayMissError,
        RunsFailed,
        SandboxError,
        SandboxUnavailable,
        SignatureError,
        ToolError,
    )
    from lmbench.evaluate import (
        BatchResult,
        BootstrapFewShot,
        EvalResult,
        KNNFewShot,
        LabeledFewShot,
        batch,
        compare,
        evaluate,
        load_run,
    )
    from lmbench.lm import LM, BaseLM, ScriptedLM, register_provider, resolve_lm
    from lmbench.lm.cache import cache
    from lmbench.lm.replay import replay
    from lmbench.media import Audio, Citations, Document, Image
    from lmbench.modules import (
        KNN,
        BestOfN,
        ChainOfThought,
        CodeAct,
        Module,
        MultiChainComparison,
        Parallel,
        Predict,
        Program,
        ProgramOfThought,
        ReAct,
        Refine,
        Retrieve,
        parallel_map,
        streamify,
        typed,
    )
    from lmbench.notebook import history_browser, playground, plot
    from lmbench.observe.history import history, load_history
    from lmbench.primitives import Conversation, Example, Prediction
    from lmbench.retrieval import Embedder, VectorIndex
    from lmbench.sandbox import Sandbox, SandboxResult
    from lmbench.settings import configure, context
    from lmbench.signatures import InputField, OutputField, Signature
    from lmbench.tools import Tool
