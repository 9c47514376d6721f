"""``ChainOfThought``: Predict with a ``reasoning`` output field before the outputs."""

from __future__ import annotations

from typing import Any

from lmbench.modules.predict import Predict
from lmbench.signatures.fields import OutputField
from lmbench.signatures.signature import Signature

__all__ = ["ChainOfThought"]

REASONING_DESC = "Think step by step about the inputs before giving the outputs."


class ChainOfThought(Predict):
    """Asks the model to reason first; ``pred.reasoning`` holds what it wrote."""

    def __init__(
        self, signature: Signature | str, *, reasoning_desc: str = REASONING_DESC, **kwargs: Any
    ) -> None:
        super().__init__(signature, **kwargs)
        if "reasoning" in self.signature.fields:
            raise ValueError(
                f"{self.signature} already has a field named 'reasoning'; ChainOfThought adds its own"
            )
        self._extended = self.signature.prepend("reasoning", OutputField(desc=reasoning_desc), str)
        self._extended_from = self.signature

    def _signature_for_call(self) -> Signature:
        if self._extended_from != self.signature:  # instructions or fields changed since
            self._extended = self.signature.prepend(
                "reasoning", OutputField(desc=REASONING_DESC), str
            )
            self._extended_from = self.signature
        return self._extended
