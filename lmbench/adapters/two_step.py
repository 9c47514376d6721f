"""``TwoStepAdapter``: the main LM answers in its own words; a second call extracts the fields.

Useful with models that reason well but follow formats poorly (reasoning models, small
chat models). The first call sends a plain prompt; the second sends the reply to the
extraction LM under the signature ``text -> <the outputs>`` through ``JSONAdapter``. Both
calls go through ``lm_call``, so both are recorded, and the usage of both is summed.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from lmbench.adapters.base import (
    STOPPED_EARLY,
    Adapter,
    RunArgs,
    cut_off_error,
    fallback_from,
    restated,
)
from lmbench.adapters.json_adapter import JSONAdapter
from lmbench.adapters.plan import SignaturePlan, signature_plan
from lmbench.adapters.reasoning import mask_reasoning, missing_reason
from lmbench.adapters.results import (
    AdapterAttempt,
    AdapterResult,
    ParseResult,
    Repair,
    final_deltas,
)
from lmbench.adapters.steps import Steps, drive
from lmbench.adapters.turns import TurnAdapter
from lmbench.adapters.values import format_value
from lmbench.errors import AdapterParseError, ConfigError
from lmbench.lm.base import LM
from lmbench.lm.types import Usage
from lmbench.settings import get_lm
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
            return get_lm(chosen)
        return chosen

    def parse_with_repairs(self, signature: Signature, text: str) -> ParseResult:
        """Extract the fields of ``text`` with the extraction LM (this makes an LM call)."""
        result = drive(self._extract(self._extractor(None), signature, [text], {}, Usage()))
        return ParseResult(result.completions[0], result.repairs)

    def _extract(
        self,
        lm: LM,
        signature: Signature,
        texts: list[str],
        config: Mapping[str, Any],
        usage: Usage,
    ) -> Steps[AdapterResult]:
        """One extraction call per text, by the extraction adapter; ``usage`` so far is added to."""
        completions, repairs = [], []
        extraction, source = extraction_signature(signature)
        adapter = self.extraction_adapter
        for text in texts:
            reply, lead = self._reply(signature, text, usage)
            repairs.extend(lead)
            run_args = RunArgs(lm, extraction, {source: reply}, (), _extraction_config(config))
            try:
                result = yield from adapter._steps(run_args)
            except AdapterParseError as exc:
                raise self._failed(exc, usage) from exc
            completions.append(result.completions[0])
            repairs.extend(result.repairs)
            usage = usage + _attempts_usage(result)
        return self._result(completions, repairs, usage)

    def _reply(self, signature: Signature, text: str, usage: Usage) -> tuple[str, list[Repair]]:
        """The reply to extract from: without the reasoning blocks opening it (a draft answer
        in them must not be extracted). A reply that is only reasoning is an error."""
        plan = signature_plan(signature)
        masked, lead = mask_reasoning(plan, text)
        if not lead:
            return text, []
        if not masked.strip():
            first = plan.outputs[0]
            error = AdapterParseError(
                missing_reason(masked, lead, ""),
                adapter=self.name,
                field=first.name,
                expected=first.expected,
                raw=text,
            )
            error.usage = usage
            raise error
        return masked.strip(), lead

    def _failed(self, exc: AdapterParseError, usage: Usage) -> AdapterParseError:
        reason = f"the extraction call ({exc.adapter}) failed: {exc.reason}"
        return restated(exc, reason, self.name, usage + (exc.usage or Usage()))

    def _result(
        self, completions: list[dict[str, Any]], repairs: list[Repair], usage: Usage
    ) -> AdapterResult:
        return AdapterResult(
            completions, self.name, repairs, [AdapterAttempt(self.name, None, usage, repairs)]
        )

    # -- running ----------------------------------------------------------------------------------

    def _steps(self, args: RunArgs) -> Steps[AdapterResult]:
        with self._open_call(args) as call:
            response = yield call
            if response.finish_reason in STOPPED_EARLY:  # fields from it may be cut short
                error = cut_off_error(
                    self.name, args.signature, response.text, finish=response.finish_reason
                )
                error.usage = response.usage
                call.set_parse(
                    adapter=self.name,
                    diagnostics=[],
                    error=error,
                    fallback_from=fallback_from.get(),
                )
                raise error
            call.set_parse(adapter=self.name, diagnostics=[], fallback_from=fallback_from.get())
        extractor = self._extractor(args.lm)
        steps = self._extract(
            extractor, args.signature, response.texts, args.config, response.usage
        )
        return (yield from steps)

    def _stream_steps(self, args: RunArgs) -> Steps[None]:
        """Fields are known only after extraction: they arrive whole, then the result."""
        result = yield from self._steps(args)
        yield from final_deltas(result, {})
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
