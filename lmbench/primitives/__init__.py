"""Values passed in and out of modules: Example, Prediction, Conversation."""

from typing import Any

from lmbench.deprecation import Moved
from lmbench.primitives.conversation import Conversation
from lmbench.primitives.example import Example
from lmbench.primitives.prediction import Prediction

__all__ = ["Conversation", "Example", "Prediction"]

_MOVED = Moved(__name__, {"History": "lmbench.primitives.conversation:Conversation"})


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        return _MOVED.load(name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
