"""``Prediction``: the output fields of a module call, and everything about how they were made."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from lmbench.display import RichDisplay
from lmbench.lm.types import Usage

if TYPE_CHECKING:
    from lmbench.adapters.base import AdapterAttempt, Repair
    from lmbench.calls import LMCall, ModuleCall
    from lmbench.signatures.signature import Signature

__all__ = ["Prediction"]


class Prediction(RichDisplay, Mapping[str, Any]):
    """Output fields by attribute (``pred.answer``) and key (``pred["answer"]``).

    ``completions`` holds every choice when ``n > 1`` (the fields show the first).
    ``usage``, ``cost``, ``lm_calls`` and ``trace`` cover every LM call made for it, nested
    modules, retries and adapter fallbacks included. ``repairs`` lists what the adapter fixed
    in the model's text; ``attempts`` lists adapter fallbacks.
    """

    def __init__(
        self,
        fields: Mapping[str, Any],
        *,
        completions: list[dict[str, Any]] | None = None,
        signature: Signature | None = None,
        inputs: Mapping[str, Any] | None = None,
        adapter: str | None = None,
        repairs: list[Repair] | None = None,
        attempts: list[AdapterAttempt] | None = None,
        call: ModuleCall | None = None,
    ) -> None:
        self._store = dict(fields)
        self.completions: list[dict[str, Any]] = (
            completions if completions is not None else [dict(fields)]
        )
        self.signature = signature
        self.inputs: dict[str, Any] = dict(inputs or {})
        self.adapter = adapter
        self.repairs: list[Repair] = list(repairs or [])
        self.attempts: list[AdapterAttempt] = list(attempts or [])
        self.call = call

    @classmethod
    def from_inner(
        cls, inner: Prediction, *, inputs: Mapping[str, Any], call: ModuleCall | None = None
    ) -> Prediction:
        """A module's prediction made from its last inner step's: that step's outputs,
        completions, signature, adapter, repairs and attempts, with the module's own inputs."""
        return cls(
            inner,
            completions=inner.completions,
            signature=inner.signature,
            inputs=inputs,
            adapter=inner.adapter,
            repairs=inner.repairs,
            attempts=inner.attempts,
            call=call,
        )

    # -- fields -------------------------------------------------------------------------------

    def __getitem__(self, key: str) -> Any:
        return self._store[key]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._store[name]
        except KeyError:
            raise AttributeError(
                f"Prediction has no field {name!r}; its fields are {list(self._store)}"
            ) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._store)

    def __len__(self) -> int:
        return len(self._store)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Prediction):
            return self._store == other._store
        if isinstance(other, Mapping):
            return self._store == dict(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def to_dict(self) -> dict[str, Any]:
        return dict(self._store)

    def as_model(self) -> Any:
        """The fields as an instance of the signature's output model (typed programs)."""
        if self.signature is None or self.signature.output_type is None:
            raise TypeError(
                "this prediction's signature has no output model; it was not built with typed()"
            )
        return self.signature.output_type(**self._store)

    # -- how it was made ----------------------------------------------------------------------

    @property
    def fell_back(self) -> bool:
        """True when the first adapter failed and a later one produced the fields."""
        return any(a.error is not None for a in self.attempts)

    @property
    def lm_refusal(self) -> dict[str, Any] | None:
        """How the model refused, or a filter stopped, an answer this prediction was made
        from (``reason``, ``note``: the LM call's ``metadata["refusal"]``); None when none was.
        (Named so that an output field called ``refusal`` stays readable as ``pred.refusal``.)"""
        for call in reversed(self.lm_calls):
            found = call.response.metadata.get("refusal") if call.response is not None else None
            if found is not None:
                return found  # type: ignore[no-any-return]
        return None

    @property
    def lm_calls(self) -> list[LMCall]:
        return self.call.lm_calls() if self.call is not None else []

    @property
    def usage(self) -> Usage:

        return self.call.usage if self.call is not None else Usage()

    @property
    def cost(self) -> float | None:
        """USD over every nested call; None when a model's price is unknown."""
        if self.call is None:
            return 0.0
        return getattr(self.call, "cost", None)

    @property
    def trace(self) -> dict[str, Any]:
        """The call tree (modules, LM calls, adapter attempts, retries, cache hits) as data."""
        if self.call is None:
            return {}
        to_dict = getattr(self.call, "to_dict", None)
        return to_dict() if to_dict else {"module": self.call.module}

    def __repr__(self) -> str:
        body = ",\n".join(f"    {k}={v!r}" for k, v in self._store.items())
        extra = f"\n    ({len(self.completions)} completions)" if len(self.completions) > 1 else ""
        return f"Prediction(\n{body}{extra}\n)"
