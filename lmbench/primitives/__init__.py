"""Values passed in and out of modules: Example, Prediction, History."""

from lmbench.primitives.example import Example
from lmbench.primitives.history import History
from lmbench.primitives.prediction import Prediction

__all__ = ["Example", "History", "Prediction"]
