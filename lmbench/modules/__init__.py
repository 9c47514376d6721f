"""Modules: programs that call LMs through adapters."""

from lmbench.modules.base import Module
from lmbench.modules.chain_of_thought import ChainOfThought
from lmbench.modules.predict import Predict
from lmbench.modules.typed import TypedProgram, typed

__all__ = ["ChainOfThought", "Module", "Predict", "TypedProgram", "typed"]
