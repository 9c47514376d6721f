"""``Module``: the base of every program, with parameter discovery and JSON save/load."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from lmbench.adapters.steps import Pull, Steps
from lmbench.calls import ModuleCall, module_call
from lmbench.errors import ConfigError
from lmbench.modules.inputs import CallInputs, bind_call
from lmbench.modules.running import (
    Call,
    Final,
    astream_events,
    listening,
    relay,
    run_async,
    run_sync,
    stream_events,
    task_events,
    thread_events,
)

__all__ = ["Module", "Predictor", "attached"]


@runtime_checkable
class Predictor(Protocol):
    """What a program's learnable parts look like: a predictor with demos, whose state (demos,
    instructions, config) saves to JSON and loads back. ``Predict`` is one."""

    demos: list[dict[str, Any]]

    def predictor_state(self) -> dict[str, Any]: ...

    def load_predictor_state(self, state: dict[str, Any]) -> None: ...


class Module:
    """A program made of predictors and other modules. Subclasses implement ``forward``.

    Calling a module runs ``forward`` inside a node of the call tree, so every LM call it
    makes (directly or through nested modules) is attributed to it. ``stream(**inputs)``
    (and ``astream``) yield what happens on the way: the output-field deltas of its LM calls
    and status events (``lmbench.modules.events``), then the result.

    Built-in modules write their work once as ``_steps`` (see ``lmbench.modules.running``),
    which the four ways of calling drive; a subclass with a plain ``forward`` streams by
    running it in a worker thread and passing on the events of the modules it calls.
    """

    callbacks: tuple[Any, ...] = ()

    def forward(self, **inputs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward(**inputs)")

    async def aforward(self, **inputs: Any) -> Any:
        """``forward`` for ``acall``. By default ``forward`` runs in a worker thread (in this
        context, so its LM calls join the call tree); override it to await LM calls instead."""
        return await asyncio.to_thread(self.forward, **inputs)

    # Inputs come as keywords, or as one mapping (then keywords named like call options, such
    # as ``n`` or ``lm``, are those options even where a field has that name).
    def __call__(self, given: Mapping[str, Any] | None = None, /, **inputs: Any) -> Any:
        return run_sync(functools.partial(self._steps, bind_call(given, inputs)))

    async def acall(self, given: Mapping[str, Any] | None = None, /, **inputs: Any) -> Any:
        """Call the module from async code (``await program.acall(...)``)."""
        return await run_async(functools.partial(self._steps, bind_call(given, inputs)))

    def stream(self, given: Mapping[str, Any] | None = None, /, **inputs: Any) -> Iterator[Any]:
        """Yield ``FieldDelta`` and status events as the work goes on, then the result."""
        with contextlib.closing(stream_events(self, bind_call(given, inputs))) as events:
            for item in events:  # a consumer that stops early closes the work at once
                yield item.value if type(item) is Final else item

    async def astream(
        self, given: Mapping[str, Any] | None = None, /, **inputs: Any
    ) -> AsyncIterator[Any]:
        """``stream`` for async code."""
        async with contextlib.aclosing(astream_events(self, bind_call(given, inputs))) as events:
            async for item in events:
                yield item.value if type(item) is Final else item

    def _steps(self, inputs: dict[str, Any], streaming: bool) -> Steps[Any]:
        """The module's work as a generator of steps and events; by default, ``forward``."""
        if isinstance(inputs, CallInputs):
            inputs = inputs.flat()
        with module_call(type(self).__name__, callbacks=self.callbacks) as node:
            if streaming and not listening():  # a stream driven here: forward in a thread
                result = yield from relay(Pull(_forward_events, _aforward_events, self, inputs))
            else:  # a plain call (inside a stream, its events go to the stream's sink)
                result = yield Call(self.forward, self.aforward, inputs)
            return attached(result, node)

    # -- parameters ---------------------------------------------------------------------------

    def named_predictors(self) -> Iterator[tuple[str, Predictor]]:
        """Every predictor inside this module (itself included), with its attribute path."""
        seen: set[int] = set()

        def walk(obj: Any, path: str) -> Iterator[tuple[str, Predictor]]:
            if id(obj) in seen:
                return
            seen.add(id(obj))
            if isinstance(obj, Predictor):
                yield path or "self", obj
            if isinstance(obj, Module):
                for name, value in vars(obj).items():
                    if isinstance(value, Module):
                        yield from walk(value, f"{path}.{name}" if path else name)
                    elif isinstance(value, (list, tuple)):
                        for i, item in enumerate(value):
                            if isinstance(item, Module):
                                yield from walk(
                                    item, f"{path}.{name}[{i}]" if path else f"{name}[{i}]"
                                )

        yield from walk(self, "")

    # -- save / load (JSON only, never pickle) ---------------------------------------------

    def dump_state(self) -> dict[str, Any]:
        return {name: p.predictor_state() for name, p in self.named_predictors()}

    def load_state(self, state: dict[str, Any]) -> None:
        predictors = dict(self.named_predictors())
        unknown = set(state) - set(predictors)
        if unknown:
            raise ConfigError(
                f"saved state names predictors {sorted(unknown)} that this {type(self).__name__} lacks; "
                f"it has {sorted(predictors)}"
            )
        for name, part in state.items():
            predictors[name].load_predictor_state(part)

    def save(self, path: str | Path) -> Path:
        """Write demos, instructions and config as JSON (no API keys, no pickle)."""
        target = Path(path)
        target.write_text(
            json.dumps(
                {"lmbench": 1, "program": type(self).__name__, "state": self.dump_state()},
                indent=2,
                default=str,
            )
        )
        return target

    def load(self, path: str | Path) -> Module:
        """Read what ``save`` wrote into this program; returns self."""
        data = json.loads(Path(path).read_text())
        if not isinstance(data, dict) or "state" not in data:
            raise ConfigError(f"{path} is not an lmbench program file (no 'state' key)")
        self.load_state(data["state"])
        return self


def _forward_events(module: Module, inputs: dict[str, Any]) -> Iterator[Any]:
    return thread_events(functools.partial(module.forward, **inputs))


def _aforward_events(module: Module, inputs: dict[str, Any]) -> AsyncIterator[Any]:
    return task_events(functools.partial(module.aforward, **inputs))


def attached(result: Any, node: ModuleCall) -> Any:
    """``result``, its ``call`` set to the module call that made it (predictions carry the
    tree), and kept as that call's outputs (for ``on_module_end`` callbacks): call it inside
    the ``with module_call(...)`` block, before the call ends."""
    node.set_outputs(result)
    if hasattr(result, "call") and getattr(result, "call", None) is not node:
        result.call = node
    return result
