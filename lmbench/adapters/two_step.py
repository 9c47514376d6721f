"""``TwoStepAdapter``: the main LM answers in its own words; a second call extracts the fields.

Useful with models that reason well but follow formats poorly (reasoning models, small
chat models). The first call sends a plain prompt; the second sends the reply to the
extraction LM under the signature ``text -> <the outputs>`` through ``JSONAdapter``. Both
calls go through ``lm_call``, so both are recorded, and the usage of both is summed.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

from lmbench.adapters.base import (
    Adapter,
    AdapterAttempt,
    AdapterResult,
    FieldDelta,
    ParseResult,
    Repair,
    _final_deltas,
    fallback_from,
)
from lmbench.adapters.json_adapter import JSONAdapter
from lmbench.adapters.plan import SignaturePlan
from lmbench.adapters.turns import TurnAdapter
from lmbench.adapters.values import format_value
from lmbench.errors import AdapterParseError, ConfigError
from lmbench.lm.base import LM
from lmbench.lm.types import LMRequest, LMResponse, Usage
from lmbench.observe.calls import lm_call
from lmbench.signatures.fields import FieldSpec
from lmbench.signatures.signature import Signature

__all__ = ["TwoStepAdapter"]


@functools.lru_cache(maxsize=256)
def extraction_signature(signature: Signature) -> tuple[Signature, str]:
    """``text -> <signature's outputs>`` and the name of its input field."""
    outputs = list(signature.output_fields.values())
    taken = {spec.name for spec in outputs}
    source = next(n for n in ("text", "source_text", "reply_text") if n not in taken)
    names = ", ".join(f"`{spec.name}`" for spec in outputs)
    instructions = (
        f"The `{source}` is a reply written in free form. Extract from it the fields {names}, "
        "as the reply states them. Do not solve the task again or add anything the reply does not say."
    )
    specs = [FieldSpec(source, "input", str, desc="the reply to extract from"), *outputs]
    return Signature(specs, instructions=instructions, name=f"{signature.name}Extraction"), source


class TwoStepAdapter(TurnAdapter):
    """A free-form answer from the main LM, then field extraction by ``extraction_lm``.

    ``extraction_lm`` (an LM or a model name) defaults to the main LM;
    ``extraction_adapter`` defaults to ``JSONAdapter()``.
    """

    name = "TwoStepAdapter"

    def __init__(
        self, extraction_lm: LM | str | None = None, *, extraction_adapter: Adapter | None = None
    ) -> None:
        self.extraction_lm = extraction_lm
        self.extraction_adapter = extraction_adapter or JSONAdapter()

    # -- the plain prompt -------------------------------------------------------------------------

    def input_wrapper(self, name: str) -> tuple[str, str]:
        return f"{name}: ", ""

    def format_outputs(self, plan: SignaturePlan, values: Mapping[str, Any]) -> str:
        return "\n".join(f"{name}: {format_value(value)}" for name, value in values.items())

    def layout(self, plan: SignaturePlan) -> str:
        names = ", ".join(f"`{o.name}`" for o in plan.outputs)
        return (
            "Inputs come as `name: value`. Answer in your own words, and make sure the answer "
            f"states {names}."
        )

    def reminder(self, plan: SignaturePlan) -> str:
        return ""

    # -- extraction -------------------------------------------------------------------------------

    def _extractor(self, lm: LM | None) -> LM:
        chosen = self.extraction_lm if self.extraction_lm is not None else lm
        if chosen is None:
            raise ConfigError(
                "TwoStepAdapter.parse needs an LM to extract the fields: "
                "create it as TwoStepAdapter(extraction_lm=...)"
            )
        if isinstance(chosen, str):
            from lmbench.settings import get_lm

            return get_lm(chosen)
        return chosen

    def parse_with_repairs(self, signature: Signature, text: str) -> ParseResult:
        """Extract the fields of ``text`` with the extraction LM (this makes an LM call)."""
        result = self._extract(self._extractor(None), signature, [text], {}, Usage())
        return ParseResult(result.completions[0], result.repairs)

    def _extract(
        self,
        lm: LM,
        signature: Signature,
        texts: list[str],
        config: Mapping[str, Any],
        usage: Usage,
    ) -> AdapterResult:
        completions, repairs = [], []
        extraction, source = extraction_signature(signature)
        for text in texts:
            try:
                result = self.extraction_adapter.run(
                    lm, extraction, {source: text}, config=_extraction_config(config)
                )
            except AdapterParseError as exc:
                raise self._failed(exc, usage) from exc
            completions.append(result.completions[0])
            repairs.extend(result.repairs)
            usage = usage + _attempts_usage(result)
        return self._result(completions, repairs, usage)

    async def _aextract(
        self,
        lm: LM,
        signature: Signature,
        texts: list[str],
        config: Mapping[str, Any],
        usage: Usage,
    ) -> AdapterResult:
        completions, repairs = [], []
        extraction, source = extraction_signature(signature)
        for text in texts:
            try:
                result = await self.extraction_adapter.arun(
                    lm, extraction, {source: text}, config=_extraction_config(config)
                )
            except AdapterParseError as exc:
                raise self._failed(exc, usage) from exc
            completions.append(result.completions[0])
            repairs.extend(result.repairs)
            usage = usage + _attempts_usage(result)
        return self._result(completions, repairs, usage)

    def _failed(self, exc: AdapterParseError, usage: Usage) -> AdapterParseError:
        error = AdapterParseError(
            f"the extraction call ({exc.adapter}) failed: {exc.reason}",
            adapter=self.name,
            field=exc.field,
            expected=exc.expected,
            raw=exc.raw,
            parsed=exc.parsed,
            span=exc.span,
        )
        error.usage = usage + (exc.usage or Usage())
        return error

    def _result(
        self, completions: list[dict[str, Any]], repairs: list[Repair], usage: Usage
    ) -> AdapterResult:
        return AdapterResult(
            completions, self.name, repairs, [AdapterAttempt(self.name, None, usage, repairs)]
        )

    # -- running ----------------------------------------------------------------------------------

    def _main_request(
        self,
        lm: LM,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]],
        config: Mapping[str, Any],
    ) -> LMRequest:
        return Adapter.build_request(
            self, lm, signature, self.format(signature, inputs, demos), config
        )

    def run(
        self,
        lm: LM,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]] = (),
        config: Mapping[str, Any] | None = None,
    ) -> AdapterResult:
        config = config or {}
        request = self._main_request(lm, signature, inputs, demos, config)
        with lm_call(lm, request, adapter=self.name, cache=config.get("cache")) as call:
            response = call.run()
            call.set_parse(adapter=self.name, diagnostics=[], fallback_from=fallback_from.get())
        return self._extract(self._extractor(lm), signature, response.texts, config, response.usage)

    async def arun(
        self,
        lm: LM,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]] = (),
        config: Mapping[str, Any] | None = None,
    ) -> AdapterResult:
        config = config or {}
        request = self._main_request(lm, signature, inputs, demos, config)
        with lm_call(lm, request, adapter=self.name, cache=config.get("cache")) as call:
            response: LMResponse = await call.arun()
            call.set_parse(adapter=self.name, diagnostics=[], fallback_from=fallback_from.get())
        return await self._aextract(
            self._extractor(lm), signature, response.texts, config, response.usage
        )

    def stream(
        self,
        lm: LM,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]] = (),
        config: Mapping[str, Any] | None = None,
    ) -> Iterator[FieldDelta | AdapterResult]:
        """Fields are known only after extraction: they arrive whole, then the result."""
        result = self.run(lm, signature, inputs, demos, config)
        yield from _final_deltas(result, {})
        yield result

    async def astream(
        self,
        lm: LM,
        signature: Signature,
        inputs: Mapping[str, Any],
        demos: Sequence[Mapping[str, Any]] = (),
        config: Mapping[str, Any] | None = None,
    ) -> AsyncIterator[FieldDelta | AdapterResult]:
        result = await self.arun(lm, signature, inputs, demos, config)
        for delta in _final_deltas(result, {}):
            yield delta
        yield result

    def __repr__(self) -> str:
        lm = self.extraction_lm
        shown = lm if isinstance(lm, str) or lm is None else getattr(lm, "name", type(lm).__name__)
        return f"TwoStepAdapter(extraction_lm={shown!r})"


def _extraction_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """The extraction call keeps the caller's cache choice and nothing else (one choice, default sampling)."""
    return {"cache": config["cache"]} if config.get("cache") is not None else {}


def _attempts_usage(result: AdapterResult) -> Usage:
    total = Usage()
    for attempt in result.attempts:
        total = total + attempt.usage
    return total
