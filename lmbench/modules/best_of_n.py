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

``parallel=True`` runs the attempts at once (threads, or tasks under ``acall``), each in its
own context, so every LM call lands in the history under this call with its own rollout id.
When one reaches ``threshold`` the attempts not yet started are cancelled; every attempt that
ran is in ``rollouts``. In a stream, each attempt says when it starts and how it scored
(``AttemptStarted``, ``AttemptFinished``).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from lmbench.calls import module_call
from lmbench.errors import (
    AuthenticationError,
    BudgetExceeded,
    ConfigError,
    RunsFailed,
    describe_error,
)
from lmbench.modules.base import Module, attached
from lmbench.modules.events import AttemptFinished, AttemptStarted
from lmbench.modules.running import Outcome, concurrently, sub_call
from lmbench.primitives.prediction import Prediction
from lmbench.settings import Settings, context, current
from lmbench.steps import Steps

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
    that is good enough to stop early; ``parallel=True`` runs the attempts at once.
    """

    def __init__(
        self,
        module: Module,
        n: int,
        reward_fn: RewardFn,
        threshold: float,
        *,
        parallel: bool = False,
    ) -> None:
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
        self.parallel = parallel

    def _steps(self, inputs: dict[str, Any], streaming: bool) -> Steps[Any]:
        with module_call(type(self).__name__, callbacks=self.callbacks) as node:
            if self.parallel:
                rollouts = yield from self._at_once(inputs, streaming)
            else:
                rollouts = []
                for index in range(self.n):
                    attempt_inputs = yield from self._attempt_inputs(inputs, rollouts, streaming)
                    attempt = yield from self._attempt(index, inputs, attempt_inputs, streaming)
                    rollouts.append(attempt)
                    if self._good_enough(attempt):
                        break
            return attached(self._best(rollouts), node)

    def _at_once(self, inputs: dict[str, Any], streaming: bool) -> Steps[list[Rollout]]:
        bodies = [
            functools.partial(self._attempt, index, inputs, self._first_inputs(inputs))
            for index in range(self.n)
        ]

        def check(outcome: Outcome) -> bool:
            if outcome.error is not None:
                raise outcome.error  # a fatal error (the others are rollouts)
            return self._good_enough(outcome.value)

        outcomes = yield from concurrently(bodies, workers=self.n, streaming=streaming, check=check)
        return [o.value for o in outcomes if o is not None]

    def _good_enough(self, attempt: Rollout) -> bool:
        return attempt.reward is not None and attempt.reward >= self.threshold

    def _best(self, rollouts: list[Rollout]) -> Any:
        scored = [r for r in rollouts if r.reward is not None]
        if not scored:
            last = rollouts[-1].error
            raise RunsFailed(
                f"all {len(rollouts)} attempts of {self!r} failed; the last with "
                f"{describe_error(last)}",
                errors=[r.error for r in rollouts if r.error is not None],
            ) from last
        best = max(scored, key=lambda r: r.reward or 0.0)  # the first of equal rewards
        if isinstance(best.prediction, Prediction):
            best.prediction.rollouts = rollouts
        return best.prediction

    def _attempt_inputs(
        self, inputs: dict[str, Any], rollouts: list[Rollout], streaming: bool
    ) -> Steps[dict[str, Any]]:
        """The inputs of the next attempt; Refine adds advice drawn from the earlier ones."""
        return self._first_inputs(inputs)
        yield  # a generator, as Refine's (which asks an LM) is

    def _attempt(
        self, index: int, inputs: dict[str, Any], attempt_inputs: dict[str, Any], streaming: bool
    ) -> Steps[Rollout]:
        name = type(self).__name__
        if streaming:
            yield AttemptStarted(name, index + 1, self.n, attempt_inputs.get("hint", ""))
        try:
            with rollout(index):
                prediction = yield from sub_call(self.module, attempt_inputs, streaming)
        except FATAL_ERRORS:
            raise
        except Exception as exc:
            result = Rollout(index, attempt_inputs, error=exc)
        else:
            result = Rollout(index, attempt_inputs, prediction, self._reward(inputs, prediction))
        if streaming:
            error = describe_error(result.error) if result.error else None
            yield AttemptFinished(name, index + 1, result.reward, error)
        return result

    def _reward(self, inputs: dict[str, Any], prediction: Any) -> float:
        reward = self.reward_fn(dict(inputs), prediction)
        if not isinstance(reward, (int, float)):
            raise ConfigError(
                f"reward_fn returned {reward!r} ({type(reward).__name__}); it must return a number "
                "(True/False count as 1/0)"
            )
        return float(reward)

    def render(self, **inputs: Any) -> str:
        """The prompt of the first attempt, without calling the LM."""
        render = getattr(self.module, "render", None)
        if render is None:
            raise ConfigError(f"{type(self.module).__name__} cannot show its prompt (no render)")
        return str(render(**self._first_inputs(inputs)))

    def _first_inputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        """The inputs of the first attempt (Refine adds an empty hint)."""
        return dict(inputs)

    def __repr__(self) -> str:
        parallel = ", parallel=True" if self.parallel else ""
        return (
            f"{type(self).__name__}({type(self.module).__name__}, n={self.n}, "
            f"threshold={self.threshold}{parallel})"
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
