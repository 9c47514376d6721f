"""The capital-of-France programs that the reward-driven module tests share: a reward of 1.0
for the answer "Paris", and BestOfN scripted to try other cities first."""

from __future__ import annotations

from typing import Any

from chat_answers import chat_answer

from lmbench.lm.scripted import ScriptedLM
from lmbench.modules.best_of_n import BestOfN
from lmbench.modules.predict import Predict


def is_paris(inputs: dict[str, Any], pred: Any) -> float:
    """1.0 for the answer "Paris", else 0.0."""
    return 1.0 if pred.answer == "Paris" else 0.0


def paris_best_of_n(*cities: str, threshold: float = 1.0, **options: Any) -> BestOfN:
    """BestOfN over three attempts of ``question -> answer``, rewarded by ``is_paris``, with a
    model that answers ``cities`` in turn."""
    lm = ScriptedLM([chat_answer(answer=city) for city in cities])
    return BestOfN(
        Predict("question -> answer", lm=lm),
        n=3,
        reward_fn=is_paris,
        threshold=threshold,
        **options,
    )
