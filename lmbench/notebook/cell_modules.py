"""The modules ``%%predict --module`` builds, and the options that need the notebook's names.

- ``predict``, ``cot``: ``Predict``, ``ChainOfThought``;
- ``react``: ``ReAct`` with ``--tools f1,f2`` (functions or ``Tool`` objects defined in the
  notebook) and ``--max-iters``;
- ``pot``: ``ProgramOfThought`` (code run in the sandbox), with ``--max-iters``;
- ``best_of_n``, ``refine``: a ``Predict`` run up to ``--attempts`` times, scored by
  ``--reward VAR`` (a function ``(inputs, prediction) -> float`` in the notebook) against
  ``--threshold``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lmbench.notebook.cell_inputs import CellError

__all__ = ["BUILTIN_MODULES", "ModuleOptions", "add_module_options", "module_options"]


@dataclass(frozen=True)
class ModuleOptions:
    """What some modules need beyond a signature, read from the cell's options."""

    tools: tuple[Any, ...] = ()
    reward: Callable[..., float] | None = None
    threshold: float = 1.0
    attempts: int = 3
    max_iters: int | None = None


def add_module_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tools", metavar="F1,F2", help="react: tool functions in the notebook")
    parser.add_argument("--max-iters", dest="max_iters", type=int, help="react, pot: steps")
    parser.add_argument("--reward", metavar="VAR", help="best_of_n, refine: reward function")
    parser.add_argument("--threshold", type=float, default=1.0, help="best_of_n, refine")
    parser.add_argument("--attempts", type=int, default=3, help="best_of_n, refine: at most")


def module_options(options: argparse.Namespace, namespace: Mapping[str, Any]) -> ModuleOptions:
    """The notebook values the options name, checked against the module that uses them."""
    module = options.module
    tools: tuple[Any, ...] = ()
    if options.tools:
        names = [n.strip() for n in options.tools.split(",") if n.strip()]
        tools = tuple(_named(namespace, n, "--tools", callable, "a function") for n in names)
    if module == "react" and not tools:
        raise CellError(
            "--module react needs tools: --tools f1,f2 naming functions defined in the notebook",
            line=0,
        )
    reward = None
    if options.reward:
        reward = _named(namespace, options.reward, "--reward", callable, "a function")
    if module in ("best_of_n", "refine") and reward is None:
        raise CellError(
            f"--module {module} needs --reward VAR: a function (inputs, prediction) -> float "
            "defined in the notebook",
            line=0,
        )
    if options.attempts < 1:
        raise CellError(f"--attempts {options.attempts}: use 1 or more", line=0)
    return ModuleOptions(tools, reward, options.threshold, options.attempts, options.max_iters)


def _named(
    namespace: Mapping[str, Any], name: str, option: str, test: Callable[[Any], bool], kind: str
) -> Any:
    if name not in namespace:
        raise CellError(f"{option} {name}: no variable named {name!r} in the notebook", line=0)
    value = namespace[name]
    if not test(value):
        raise CellError(f"{option} {name}: {type(value).__name__} is not {kind}", line=0)
    return value


def _iters(extra: ModuleOptions) -> dict[str, Any]:
    return {} if extra.max_iters is None else {"max_iters": extra.max_iters}


def _predict(signature: Any, extra: ModuleOptions, **options: Any) -> Any:
    from lmbench.modules import Predict

    return Predict(signature, **options)


def _cot(signature: Any, extra: ModuleOptions, **options: Any) -> Any:
    from lmbench.modules import ChainOfThought

    return ChainOfThought(signature, **options)


def _react(signature: Any, extra: ModuleOptions, **options: Any) -> Any:
    from lmbench.modules import ReAct

    return ReAct(signature, tools=list(extra.tools), **_iters(extra), **options)


def _pot(signature: Any, extra: ModuleOptions, **options: Any) -> Any:
    try:
        from lmbench.modules.program_of_thought import ProgramOfThought
    except ImportError as exc:
        raise CellError(
            f"--module pot needs ProgramOfThought (lmbench.modules.program_of_thought), which "
            f"this lmbench cannot load ({exc}); use --module cot, or update lmbench",
            line=0,
        ) from None
    return ProgramOfThought(signature, **_iters(extra), **options)


def _best_of_n(signature: Any, extra: ModuleOptions, **options: Any) -> Any:
    from lmbench.modules import BestOfN, Predict

    assert extra.reward is not None
    return BestOfN(Predict(signature, **options), extra.attempts, extra.reward, extra.threshold)


def _refine(signature: Any, extra: ModuleOptions, **options: Any) -> Any:
    from lmbench.modules import Predict, Refine

    assert extra.reward is not None
    return Refine(Predict(signature, **options), extra.attempts, extra.reward, extra.threshold)


#: ``--module`` names built in: factories ``(signature, extra, lm=, adapter=, demos=, config=)``.
BUILTIN_MODULES: dict[str, Callable[..., Any]] = {
    "predict": _predict,
    "cot": _cot,
    "react": _react,
    "pot": _pot,
    "best_of_n": _best_of_n,
    "refine": _refine,
}
