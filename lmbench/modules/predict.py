"""``Predict``: one LM call that turns a signature's inputs into its outputs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from lmbench.adapters import Adapter, AdapterResult, resolve_adapter
from lmbench.adapters.base import Inputs, RunArgs
from lmbench.adapters.plan import signature_plan
from lmbench.adapters.resolve import shared_default_adapter
from lmbench.adapters.steps import Pull, Steps
from lmbench.calls import ModuleCall, module_call
from lmbench.errors import ConfigError
from lmbench.lm.base import LM
from lmbench.modules.base import Module, attached
from lmbench.modules.citations import citation_fields, fill_citations, without_citations
from lmbench.modules.inputs import check_inputs, given_of, split_call
from lmbench.primitives.prediction import Prediction
from lmbench.settings import current, get_lm
from lmbench.signatures.signature import Signature, ensure_signature

__all__ = ["Predict"]

_CONFIG_KEYS = frozenset(
    {"temperature", "max_tokens", "n", "stop", "seed", "cache", "tools", "tool_choice"}
)


def call_label(signature: Signature) -> str:
    """How history names the signature of a call: its text, with the class name if it has one
    (``question -> answer``, ``Trip(sentence -> city, transport)``)."""
    text = signature_plan(signature).memo("call-label", lambda: str(signature))
    return text if signature.name == "Signature" else f"{signature.name}({text})"


class _CallShape(NamedTuple):
    signature: Signature
    label: str
    cited: tuple[str, ...]


class Predict(Module):
    """Ask an LM for a signature's outputs.

    >>> qa = Predict("question -> answer")
    >>> qa(question="What is the capital of France?").answer

    Per-call overrides: ``lm=`` (a name or LM), ``adapter=``, ``config=`` (temperature,
    max_tokens, stop, seed, cache), ``n=`` (several completions), ``demos=``. An input field
    named like one of these is the input (set the option through ``config=`` or the
    constructor instead); inputs may also be passed as one mapping: ``qa({"question": ...})``.
    """

    def __init__(
        self,
        signature: Signature | str,
        *,
        demos: Sequence[Mapping[str, Any]] = (),
        config: Mapping[str, Any] | None = None,
        adapter: Adapter | str | None = None,
        lm: LM | str | None = None,
        types: Mapping[str, Any] | None = None,
        callbacks: Sequence[Any] = (),
    ) -> None:
        self.signature = ensure_signature(signature, types)
        self.demos = [dict(d) for d in demos]
        self.config = _check_config(config or {})
        self.adapter = resolve_adapter(adapter) if adapter is not None else None
        self.lm = lm
        self.callbacks = tuple(callbacks)

    # -- preparing ------------------------------------------------------------------------------

    def _prepare(
        self, given: Inputs | None, call_kwargs: dict[str, Any]
    ) -> tuple[LM, Adapter, dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
        given_inputs, options = split_call(self.signature, call_kwargs, given)
        lm_override = options.get("lm")
        adapter_override = options.get("adapter")
        config_override = options.get("config")
        n = options.get("n")
        demos = options.get("demos")
        inputs = check_inputs(self.signature, given_inputs)
        settings = current()
        lm = get_lm(
            lm_override if lm_override is not None else self.lm if self.lm is not None else None
        )
        adapter_choice = adapter_override or self.adapter or settings.adapter
        adapter = (
            resolve_adapter(adapter_choice)
            if adapter_choice is not None
            else shared_default_adapter(lm)
        )
        config: dict[str, Any] = {}
        if settings.temperature is not None:
            config["temperature"] = settings.temperature
        if settings.max_tokens is not None:
            config["max_tokens"] = settings.max_tokens
        config.update(self.config)
        if config_override:
            config.update(_check_config(config_override))
        if n is not None:
            config["n"] = n
        return (
            lm,
            adapter,
            config,
            self.demos if demos is None else [dict(d) for d in demos],
            inputs,
        )

    def _prediction(
        self,
        result: AdapterResult,
        inputs: dict[str, Any],
        node: ModuleCall,
        signature: Signature,
        cited: tuple[str, ...],
    ) -> Prediction:
        if cited:
            fill_citations(result.completions, cited, node)
        return Prediction(
            result.completions[0],
            completions=result.completions,
            signature=signature,
            inputs=inputs,
            adapter=result.adapter,
            repairs=result.repairs,
            attempts=result.attempts,
            call=node,
        )

    def _signature_for_call(self) -> Signature:
        """The signature sent to the adapter; ChainOfThought extends it."""
        return self.signature

    #: ``_call_shape``'s last answer, with the signature it was made for.
    _shape: tuple[Signature, _CallShape] | None = None

    def _call_shape(self) -> _CallShape:
        """What a call sends for ``_signature_for_call``: the adapter's signature (less its
        ``Citations`` outputs, which come from the provider's citation blocks rather than
        from the model's text), its label in history, and the cited fields. Made again only
        when the signature for the call is another object."""
        signature = self._signature_for_call()
        made = self._shape
        if made is not None and made[0] is signature:
            return made[1]
        cites = any(spec.type_name == "Citations" for spec in signature.output_fields.values())
        cited = citation_fields(signature) if cites else ()
        sent = without_citations(signature) if cited else signature
        shape = _CallShape(sent, call_label(sent), cited)
        self._shape = (signature, shape)
        return shape

    def _adapter_signature(self) -> Signature:
        """The signature the adapter gets (see ``_call_shape``)."""
        return self._call_shape().signature

    # -- calling --------------------------------------------------------------------------------

    def _steps(self, kwargs: dict[str, Any], streaming: bool) -> Steps[Prediction]:
        """One adapter run; in a stream, its field deltas are passed on as they arrive."""
        lm, adapter, config, demos, inputs = self._prepare(given_of(kwargs), dict(kwargs))
        shape = self._call_shape()
        signature = shape.signature
        with module_call(
            type(self).__name__, signature=shape.label, callbacks=self.callbacks
        ) as node:
            if streaming:
                events = Pull(adapter.stream, adapter.astream, lm, signature, inputs, demos, config)
                while (event := (yield events)) is not None:
                    if isinstance(event, AdapterResult):
                        result = event
                    else:
                        yield event
            else:  # the adapter's own steps, driven with this body's
                result = yield from adapter._steps(RunArgs(lm, signature, inputs, demos, config))
            return attached(self._prediction(result, inputs, node, signature, shape.cited), node)

    def render(self, given: Inputs | None = None, /, **kwargs: Any) -> str:
        """The exact prompt this call would send, without calling the LM."""
        _lm, adapter, _config, demos, inputs = self._prepare(given, kwargs)
        return adapter.render(self._adapter_signature(), inputs, demos)

    # -- state ----------------------------------------------------------------------------------

    def predictor_state(self) -> dict[str, Any]:
        return {
            "signature": str(self.signature),
            "instructions": self.signature.instructions,
            "fields": {
                name: {"desc": f.desc, "prefix": f.prefix}
                for name, f in self.signature.fields.items()
            },
            "demos": self.demos,
            "config": self.config,
        }

    def load_predictor_state(self, state: Mapping[str, Any]) -> None:
        signature = self.signature
        instructions = state.get("instructions")
        # the saved text is the one the prompt used; the default sentence stays the default
        # (not made explicit), so a saved and loaded program compares equal to the original
        if instructions is not None and instructions != signature.instructions:
            signature = signature.with_instructions(instructions)
        for name, changes in state.get("fields", {}).items():
            if name in signature.fields:
                signature = signature.with_updated_fields(name, **changes)
        self.signature = signature
        self.demos = [dict(d) for d in state.get("demos", [])]
        self.config = _check_config(state.get("config", {}))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.signature})"


def _check_config(config: Mapping[str, Any]) -> dict[str, Any]:

    unknown = set(config) - _CONFIG_KEYS
    if unknown:
        raise ConfigError(f"unknown config key(s) {sorted(unknown)}; known: {sorted(_CONFIG_KEYS)}")
    return dict(config)
