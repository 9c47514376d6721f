"""``BestOfN``: run a module several times and keep the prediction a reward function likes best.

::

    def one_word(inputs, pred) -> float:
        return 1.0 if len(pred.answer.split()) == 1 else 0.0

    best = BestOfN(Predict("question -> answer"), n=3, reward_fn=one_word, threshold=1.0)
    pred = best(question="What is the capital of France?")
    pred.rollouts       # every attempt: index, reward, error, inputs

Attempt ``i`` runs inside ``lmbench.context(rollout_id=i)`` (so it misses the cache entries of
the other attempts) and at temperature 1.0 unless a temperature is set in the settings or in
the module's config. The loop stops at the first reward at or above ``threshold``. An
attempt that raises counts as a failure and the next one runs; when every attempt fails,
``RunsFailed`` is raised with the last error as its cause. Errors no retry can fix (bad
configuration, authentication, an exhausted budget) are raised at once.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lmbench.errors import (
    AuthenticationError,
    BudgetExceeded,
    ConfigError,
    RunsFailed,
    describe_error,
)
from lmbench.modules.base import Module
from lmbench.primitives.prediction import Prediction
from lmbench.settings import Settings, context, current

__all__ = ["FATAL_ERRORS", "BestOfN", "RewardFn", "Rollout", "outputs_of", "rollout"]

RewardFn = Callable[[dict[str, Any], Any], float]

# Errors another attempt cannot fix: raised at once instead of being counted as failures.
FATAL_ERRORS: tuple[type[BaseException], ...] = (ConfigError, AuthenticationError, BudgetExceeded)

ROLLOUT_TEMPERATURE = 1.0


@dataclass
class Rollout:
    """One attempt: its inputs (with ``hint`` for Refine), and its prediction and reward or error."""

    index: int
    inputs: dict[str, Any]
    prediction: Any = None
    reward: float | None = None
    error: BaseException | None = None

    @property
    def failed(self) -> bool:
        return self.error is not None

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "inputs": self.inputs,
            "outputs": outputs_of(self.prediction) if self.prediction is not None else None,
            "reward": self.reward,
            "error": describe_error(self.error) if self.error else None,
        }


class BestOfN(Module):
    """Runs ``module`` up to ``n`` times; returns the best prediction, with ``rollouts`` on it.

    ``reward_fn(inputs, prediction) -> float`` scores an attempt; ``threshold`` is the reward
    that is good enough to stop early.
    """

    def __init__(self, module: Module, n: int, reward_fn: RewardFn, threshold: float) -> None:
        if not isinstance(n, int) or n < 1:
            raise ConfigError(f"n={n!r}: {type(self).__name__} needs n >= 1 attempts")
        if not callable(reward_fn):
            raise ConfigError(
                f"reward_fn={reward_fn!r} is not callable; pass a function (inputs, prediction) -> float"
            )
        if not callable(module):
            raise ConfigError(
                f"module={module!r} is not callable; pass a Module such as Predict(...)"
            )
        self.module = module
        self.n = n
        self.reward_fn = reward_fn
        self.threshold = threshold

    def forward(self, **inputs: Any) -> Any:
        rollouts: list[Rollout] = []
        for index in range(self.n):
            attempt = self._attempt(index, inputs, self._attempt_inputs(inputs, rollouts))
            rollouts.append(attempt)
            if attempt.reward is not None and attempt.reward >= self.threshold:
                break
        scored = [r for r in rollouts if r.reward is not None]
        if not scored:
            last = rollouts[-1].error
            raise RunsFailed(
                f"all {self.n} attempts of {self!r} failed; the last with {describe_error(last)}",
                errors=[r.error for r in rollouts if r.error is not None],
            ) from last
        best = max(scored, key=lambda r: r.reward or 0.0)  # the first of equal rewards
        if isinstance(best.prediction, Prediction):
            best.prediction.rollouts = rollouts
        return best.prediction

    def _attempt_inputs(self, inputs: dict[str, Any], rollouts: list[Rollout]) -> dict[str, Any]:
        """The inputs of the next attempt; Refine adds advice drawn from the earlier ones."""
        return dict(inputs)

    def _attempt(
        self, index: int, inputs: dict[str, Any], attempt_inputs: dict[str, Any]
    ) -> Rollout:
        try:
            with rollout(index):
                prediction = self.module(**attempt_inputs)
        except FATAL_ERRORS:
            raise
        except Exception as exc:
            return Rollout(index, attempt_inputs, error=exc)
        return Rollout(index, attempt_inputs, prediction, self._reward(inputs, prediction))

    def _reward(self, inputs: dict[str, Any], prediction: Any) -> float:
        reward = self.reward_fn(dict(inputs), prediction)
        if not isinstance(reward, (int, float)):
            raise ConfigError(
                f"reward_fn returned {reward!r} ({type(reward).__name__}); it must return a number "
                "(True/False count as 1/0)"
            )
        return float(reward)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({type(self.module).__name__}, n={self.n}, "
            f"threshold={self.threshold})"
        )


@contextlib.contextmanager
def rollout(index: int) -> Iterator[Settings]:
    """Settings for attempt ``index`` of several: its own rollout id, so it does not reuse
    another attempt's cached answer, and temperature 1.0 unless a temperature is set."""
    settings = current()
    changes: dict[str, Any] = {
        "rollout_id": index if settings.rollout_id is None else (settings.rollout_id, index)
    }
    if settings.temperature is None:
        changes["temperature"] = ROLLOUT_TEMPERATURE
    with context(**changes) as inner:
        yield inner


def outputs_of(prediction: Any) -> Any:
    """A module's result as plain data: a Prediction's fields, a pydantic model's dump."""
    if isinstance(prediction, Mapping):
        return dict(prediction)
    model_dump = getattr(prediction, "model_dump", None)
    return model_dump() if callable(model_dump) else prediction
