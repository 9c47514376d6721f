"""``Refine``: BestOfN that learns from each miss, passing advice to the next attempt.

::

    def short(inputs, pred) -> float:
        return 1.0 if len(pred.answer) <= 20 else 0.0

    refine = Refine(Predict("question -> answer"), n=3, reward_fn=short, threshold=1.0)
    pred = refine(question="Describe Paris")
    [r.inputs["hint"] for r in pred.rollouts]    # "", then the advice each retry was given

How the advice reaches the module: every attempt is called with an extra ``hint`` input
(empty on the first attempt). A ``Predict`` (or ``ChainOfThought``) is given that input
automatically: Refine works on a copy of it whose signature has a ``hint`` input field. Any
other module must accept it itself, as a ``hint`` parameter of its ``forward``, and pass it
on where it helps.

After an attempt scores below ``threshold`` (or fails), an advice ``Predict`` reads the
inputs, what the attempt produced (or its error), its reward and the threshold, and writes
the hint for the next attempt; it uses ``advice_lm``, else the module's own ``lm`` (a
Predict's), else the configured LM. Everything else (rollout ids, temperature, failures, early
stop) works as in ``BestOfN``.
"""

from __future__ import annotations

import copy
import inspect
import json
from typing import Any

from lmbench.errors import ConfigError, SignatureError, describe_error
from lmbench.modules.base import Module
from lmbench.modules.best_of_n import BestOfN, RewardFn, Rollout, outputs_of
from lmbench.modules.predict import Predict
from lmbench.modules.running import sub_call
from lmbench.signatures.fields import InputField
from lmbench.signatures.signature import Signature
from lmbench.steps import Steps

__all__ = ["ADVICE_SIGNATURE", "Refine"]

HINT_DESC = "advice from earlier attempts at this task; follow it when it is given"

ADVICE_SIGNATURE = Signature(
    "inputs, outcome, reward: float, threshold: float -> advice",
    instructions=(
        "A program was run on the inputs below. The outcome shows what it produced, or the "
        "error it raised. A reward function scored it `reward`, short of the `threshold` it "
        "had to reach. Write brief, concrete advice for the program's next attempt at the "
        "same inputs: what to change so that it scores higher."
    ),
    name="Advice",
)


class Refine(BestOfN):
    """BestOfN with advice between attempts; see the module docstring."""

    def __init__(
        self,
        module: Module,
        n: int,
        reward_fn: RewardFn,
        threshold: float,
        *,
        advice_lm: Any = None,
    ) -> None:
        super().__init__(_accepting_hint(module), n, reward_fn, threshold)
        lm = advice_lm if advice_lm is not None else getattr(module, "lm", None)
        self.advise = Predict(ADVICE_SIGNATURE, lm=lm)

    def _first_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {**inputs, "hint": ""}

    def _attempt_inputs(
        self, inputs: dict[str, Any], rollouts: list[Rollout], streaming: bool
    ) -> Steps[dict[str, Any]]:
        if not rollouts:
            return self._first_inputs(inputs)
        last = rollouts[-1]
        if last.error is not None:
            outcome = f"error: {describe_error(last.error)}"
        else:
            outcome = json.dumps(outputs_of(last.prediction), ensure_ascii=False, default=str)
        asked = {
            "inputs": json.dumps(inputs, ensure_ascii=False, default=str),
            "outcome": outcome,
            "reward": last.reward if last.reward is not None else 0.0,
            "threshold": self.threshold,
        }
        advice = yield from sub_call(self.advise, asked, streaming)
        return {**inputs, "hint": advice.advice}


def _accepting_hint(module: Module) -> Module:
    """``module`` itself if its forward takes ``hint``; a copy with a hint field for Predict."""
    if isinstance(module, Predict):
        if "hint" in module.signature.fields:
            raise SignatureError(
                f"{module.signature} already has a field named 'hint'; Refine adds its own"
            )
        hinted = copy.copy(module)
        hinted.signature = module.signature.append(
            "hint", InputField(desc=HINT_DESC, default=""), str
        )
        return hinted
    forward = getattr(module, "forward", None)
    if forward is None or "hint" not in inspect.signature(forward).parameters:
        raise ConfigError(
            f"Refine passes advice to {type(module).__name__} as a `hint` input, but its forward() "
            "has no `hint` parameter; add `hint: str = ''` to forward and use it (for example "
            "pass it to a Predict whose signature has a hint input)"
        )
    return module
