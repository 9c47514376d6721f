"""``MultiChainComparison``: compare M attempts at a task and write the final outputs.

::

    compare = MultiChainComparison("question -> answer: int", M=3)
    pred = compare(question="What is 17 * 3?")          # makes 3 attempts, then compares them
    pred.reasoning, pred.answer

    attempts = ChainOfThought("question -> answer: int")(question=..., n=3).completions
    pred = compare(question="What is 17 * 3?", completions=attempts)   # compares given ones

Each attempt (a Prediction or a dict with the output fields, and ``reasoning`` when there is
one) is shown to the model as ``attempt_1`` .. ``attempt_M``; a ``ChainOfThought`` weighs
them and writes ``reasoning`` and the signature's outputs. Without ``completions`` the M
attempts come from a ``ChainOfThought`` asked for ``n=M`` choices, at temperature 1.0
unless one is set; an LM that returns fewer choices is asked again (with other rollout ids)
until there are M.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lmbench.calls import module_call
from lmbench.errors import ConfigError, InputError, SignatureError
from lmbench.modules.base import Module, attached
from lmbench.modules.best_of_n import rollout
from lmbench.modules.chain_of_thought import ChainOfThought
from lmbench.modules.events import StepStarted
from lmbench.modules.inputs import CallInputs, check_inputs
from lmbench.modules.running import sub_call
from lmbench.primitives.prediction import Prediction
from lmbench.signatures.fields import FieldSpec
from lmbench.signatures.signature import Signature, ensure_signature
from lmbench.steps import Steps

__all__ = ["MultiChainComparison"]


class MultiChainComparison(Module):
    """Makes (or takes) M attempts and asks the model to compare them; see the module docstring.

    Keywords other than ``callbacks`` (``lm``, ``adapter``, ``config``...) go to the inner
    predictors.
    """

    def __init__(
        self,
        signature: Signature | str,
        M: int = 3,
        *,
        callbacks: Sequence[Any] = (),
        **predict_kwargs: Any,
    ) -> None:
        self.signature = ensure_signature(signature)
        self.callbacks = tuple(callbacks)  # cover the attempts and the comparison
        if not isinstance(M, int) or M < 1:
            raise ConfigError(f"M={M!r}: MultiChainComparison needs at least one attempt")
        self.M = M
        reserved = ["completions", "reasoning", *self._attempt_names()]
        clashes = [name for name in reserved if name in self.signature.fields]
        if clashes:
            raise SignatureError(
                f"MultiChainComparison uses the names {clashes}, which {self.signature} already "
                "has as fields; rename those fields"
            )
        self.generate = ChainOfThought(self.signature, **predict_kwargs)
        self.compare = ChainOfThought(self._compare_signature(), **predict_kwargs)

    def _attempt_names(self) -> list[str]:
        return [f"attempt_{i}" for i in range(1, self.M + 1)]

    def _compare_signature(self) -> Signature:
        attempts = [
            FieldSpec(name, "input", str, desc="an earlier attempt: its reasoning and outputs")
            for name in self._attempt_names()
        ]
        instructions = (
            f"{self.signature.instructions}\n\n"
            f"You are given {self.M} independent attempts at this task. Compare their reasoning, "
            "decide which is right (or correct them all), then write the final outputs."
        )
        specs = [
            *self.signature.input_fields.values(),
            *attempts,
            *self.signature.output_fields.values(),
        ]
        return Signature(specs, instructions, name=f"{self.signature.name}Comparison")

    def _steps(self, inputs: dict[str, Any], streaming: bool) -> Steps[Prediction]:
        completions = inputs.pop("completions", None)
        with module_call("MultiChainComparison", callbacks=self.callbacks) as node:
            inputs = check_inputs(self.signature, inputs)
            if completions is not None:
                attempts = list(completions)
            else:
                attempts = yield from self._make_attempts(inputs, streaming)
            if len(attempts) != self.M:
                raise InputError(
                    f"MultiChainComparison(M={self.M}) has {len(attempts)} completions to compare; "
                    f"it needs exactly {self.M} (pass completions=None to let it make them)"
                )
            shown = {
                name: self._attempt_text(attempt)
                for name, attempt in zip(self._attempt_names(), attempts, strict=True)
            }
            if streaming:
                yield StepStarted("MultiChainComparison", 2, 2, "compare the attempts")
            result = yield from sub_call(self.compare, {**inputs, **shown}, streaming)
            return attached(result, node)

    def _make_attempts(
        self, inputs: dict[str, Any], streaming: bool
    ) -> Steps[list[dict[str, Any]]]:
        if streaming:
            yield StepStarted("MultiChainComparison", 1, 2, f"make {self.M} attempts")
        attempts: list[dict[str, Any]] = []
        for round_ in range(self.M):  # each round brings at least one choice
            if len(attempts) >= self.M:
                break
            with rollout(round_):
                asked = CallInputs(inputs, {"n": self.M - len(attempts)})
                made = yield from sub_call(self.generate, asked, streaming)
            attempts.extend(made.completions)
        return attempts[: self.M]

    def _attempt_text(self, attempt: Mapping[str, Any]) -> str:
        names = ["reasoning", *self.signature.output_fields]
        lines = [f"{name}: {attempt[name]}" for name in names if name in attempt]
        if not lines:
            raise InputError(
                f"a completion given to MultiChainComparison has none of the output fields "
                f"{list(self.signature.output_fields)}: {dict(attempt)!r}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"MultiChainComparison({self.signature}, M={self.M})"
