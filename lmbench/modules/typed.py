"""Typed programs: inputs and outputs are pydantic models.

class Ticket(BaseModel):
    text: str

class Triage(BaseModel):
    '''Route the support ticket.'''
    team: Literal["billing", "tech", "sales"]
    urgent: bool

triage = lmbench.typed(Ticket, Triage)
result = triage(Ticket(text="I was charged twice"))   # -> Triage instance
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from lmbench.errors import InputError
from lmbench.modules.base import Module
from lmbench.modules.chain_of_thought import ChainOfThought
from lmbench.modules.predict import Predict
from lmbench.modules.running import sub_call
from lmbench.signatures.models import signature_from_models
from lmbench.steps import Steps

__all__ = ["TypedProgram", "typed"]

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)


class TypedProgram(Module, Generic[In, Out]):
    """Calls a predictor with an input model instance (or keywords); returns an output model instance.

    The Prediction behind the last call is kept in ``last_prediction`` (usage, cost, repairs).
    """

    def __init__(self, input_model: type[In], output_model: type[Out], predictor: Predict) -> None:
        self.input_model = input_model
        self.output_model = output_model
        self.predictor = predictor
        self.last_prediction: Any = None

    def __call__(self, value: In | Mapping[str, Any] | None = None, /, **kwargs: Any) -> Out:  # type: ignore[override]
        return super().__call__(**self._inputs(value, kwargs))  # type: ignore[no-any-return]

    async def acall(self, value: In | Mapping[str, Any] | None = None, /, **kwargs: Any) -> Out:  # type: ignore[override]
        return await super().acall(**self._inputs(value, kwargs))  # type: ignore[no-any-return]

    def stream(
        self, value: In | Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> Iterator[Any]:  # type: ignore[override]
        """The predictor's field deltas, then the output model instance."""
        return super().stream(**self._inputs(value, kwargs))

    def astream(  # type: ignore[override]
        self, value: In | Mapping[str, Any] | None = None, /, **kwargs: Any
    ) -> AsyncIterator[Any]:
        return super().astream(**self._inputs(value, kwargs))

    def _steps(self, inputs: dict[str, Any], streaming: bool) -> Steps[Out]:
        return self._output((yield from sub_call(self.predictor, inputs, streaming)))

    def _inputs(
        self, value: In | Mapping[str, Any] | None, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """The predictor's inputs, from an input model instance, a mapping or keywords."""
        if value is not None and kwargs:
            raise InputError("pass either an input model instance or keyword inputs, not both")
        if value is None:
            value = self.input_model(**kwargs)
        elif isinstance(value, Mapping):
            value = self.input_model(**value)
        elif not isinstance(value, self.input_model):
            raise InputError(
                f"expected a {self.input_model.__name__} instance, got {type(value).__name__}"
            )
        return {name: getattr(value, name) for name in self.input_model.model_fields}

    def _output(self, prediction: Any) -> Out:
        self.last_prediction = prediction
        return self.output_model(**{k: prediction[k] for k in self.output_model.model_fields})


def typed(
    input_model: type[In],
    output_model: type[Out],
    *,
    instructions: str | None = None,
    reasoning: bool = False,
    **predict_kwargs: Any,
) -> TypedProgram[In, Out]:
    """Build a program from two pydantic models; ``reasoning=True`` uses ChainOfThought."""
    signature = signature_from_models(input_model, output_model, instructions)
    module = ChainOfThought if reasoning else Predict
    return TypedProgram(input_model, output_model, module(signature, **predict_kwargs))
