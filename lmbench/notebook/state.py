"""What the notebook layer remembers across cells."""

from __future__ import annotations

from typing import Any

__all__ = ["LastPrediction"]


class LastPrediction:
    """The last Prediction a cell produced (its value, ``%%predict``, or the playground)."""

    value: Any = None

    @classmethod
    def remember(cls, value: Any) -> None:
        from lmbench.primitives.prediction import Prediction

        if isinstance(value, Prediction):
            cls.value = value
