"""``Program``: modules run one after another, each fed by name from what came before.

::

    outline = ChainOfThought("topic -> outline")
    draft = Predict("topic, outline -> article")
    title = Predict("article -> title")
    write = Program(outline, draft, title)
    pred = write(topic="tide pools")
    pred.title, pred.article, pred.outline, pred.reasoning   # every step's outputs, merged
    pred.usage, pred.cost                                     # all steps together
    pred.steps                                                # each step's own prediction

A step is called with the inputs it declares (its signature's input fields, or its
``forward``'s parameters), taken from the program's inputs and the outputs of the steps
before it (a later output of the same name wins). The inputs are checked before anything
runs: a step needing an input that nothing provides raises ``InputError`` naming the input
and the step. Steps whose outputs are not declared (a plain ``forward``) are checked when
they are reached. In a stream, ``StepStarted`` tells which step runs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from lmbench.calls import module_call
from lmbench.errors import ConfigError, InputError
from lmbench.modules.base import Module, attached
from lmbench.modules.events import StepStarted
from lmbench.modules.running import sub_call
from lmbench.primitives.prediction import Prediction
from lmbench.signatures.signature import Signature
from lmbench.steps import Steps

__all__ = ["Program"]


class Program(Module):
    """Runs ``steps`` in order; see the module docstring."""

    def __init__(self, *steps: Module | Callable[..., Any], callbacks: Iterable[Any] = ()) -> None:
        if not steps:
            raise ConfigError("Program needs at least one step: Program(step1, step2, ...)")
        for number, step in enumerate(steps, 1):
            if not callable(step):
                raise ConfigError(
                    f"Program step {number} is {step!r} ({type(step).__name__}), not a module; "
                    "pass modules such as Predict(...) or functions"
                )
        self.steps = list(steps)
        self.callbacks = tuple(callbacks)

    def _steps(self, inputs: dict[str, Any], streaming: bool) -> Steps[Prediction]:
        self._check_wiring(set(inputs))
        available = dict(inputs)
        merged: dict[str, Any] = {}
        results: list[Any] = []
        total = len(self.steps)
        with module_call(type(self).__name__, callbacks=self.callbacks) as node:
            for number, step in enumerate(self.steps, 1):
                if streaming:
                    yield StepStarted(type(self).__name__, number, total, _describe(step))
                step_inputs = _inputs_for(number, step, available)
                result = yield from sub_call(step, step_inputs, streaming)
                outputs = _outputs_of(number, step, result)
                results.append(result)
                available.update(outputs)
                merged.update(outputs)
            prediction = Prediction(merged, inputs=inputs, call=node)
            prediction.steps = results
            return attached(prediction, node)

    def _check_wiring(self, names: set[str]) -> None:
        """Raise for the first step needing an input nothing before it provides (as far as
        the steps declare their outputs)."""
        available = set(names)
        for number, step in enumerate(self.steps, 1):
            _inputs_for(number, step, dict.fromkeys(available))
            outputs = _declared_outputs(step)
            if outputs is None:
                return  # known only once it has run
            available |= outputs

    def __repr__(self) -> str:
        return f"Program({', '.join(_describe(s) for s in self.steps)})"


def _describe(step: Any) -> str:
    signature = _signature_of(step)
    name = type(step).__name__ if isinstance(step, Module) else getattr(step, "__name__", "step")
    return f"{name}({signature})" if signature is not None else name


def _signature_of(step: Any) -> Signature | None:
    """The signature a step runs (ChainOfThought's with its reasoning), looking inside
    wrappers such as BestOfN."""
    for_call = getattr(step, "_signature_for_call", None)
    if callable(for_call):
        return for_call()
    signature = getattr(step, "signature", None)
    if isinstance(signature, Signature):
        return signature
    inner = getattr(step, "module", None)
    return _signature_of(inner) if inner is not None else None


def _wanted(step: Any) -> tuple[list[str], list[str]] | None:
    """The step's required and optional input names; None when it takes any keyword."""
    signature = _signature_of(step)
    if signature is not None:
        fields = signature.input_fields
        return (
            [n for n, f in fields.items() if not f.has_default],
            [n for n, f in fields.items() if f.has_default],
        )
    function = step.forward if isinstance(step, Module) else step
    required, optional = [], []
    for parameter in inspect.signature(function).parameters.values():
        if parameter.kind is inspect.Parameter.VAR_KEYWORD:
            return None
        if parameter.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.VAR_POSITIONAL):
            continue
        target = required if parameter.default is inspect.Parameter.empty else optional
        target.append(parameter.name)
    return required, optional


def _inputs_for(number: int, step: Any, available: Mapping[str, Any]) -> dict[str, Any]:
    wanted = _wanted(step)
    if wanted is None:
        return dict(available)
    required, optional = wanted
    missing = [name for name in required if name not in available]
    if missing:
        source = "the program's inputs" if number == 1 else "the program's inputs or earlier steps"
        raise InputError(
            f"Program step {number} ({_describe(step)}) needs input(s) {missing}, which "
            f"{source} do not provide; available: {sorted(available)}. Pass them when calling "
            "the program, or add a step before it whose outputs have those names"
        )
    return {name: available[name] for name in (*required, *optional) if name in available}


def _declared_outputs(step: Any) -> set[str] | None:
    signature = _signature_of(step)
    return set(signature.output_fields) if signature is not None else None


def _outputs_of(number: int, step: Any, result: Any) -> dict[str, Any]:
    if isinstance(result, Mapping):
        return dict(result)
    model_dump = getattr(result, "model_dump", None)
    if callable(model_dump):
        return dict(model_dump())
    raise ConfigError(
        f"Program step {number} ({_describe(step)}) returned {result!r} "
        f"({type(result).__name__}); a step must return a Prediction, a mapping of output "
        "names to values or a pydantic model, so the next steps can use its outputs by name"
    )
