"""``JSONAdapter``: the answer is one JSON object of the output fields.

With an LM whose capabilities include ``structured_output``, the request carries the output
JSON schema (``LMRequest.response_schema``) so the provider constrains decoding; otherwise
the prompt asks for the object. Either way the reply is parsed tolerantly: fences, prose
around the object, Python literals and broken JSON are repaired and reported.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from lmbench.adapters.assemble import Found, assemble_outputs, has_output_keys, match_keys
from lmbench.adapters.base import ParseResult, Repair
from lmbench.adapters.hints import value_hint
from lmbench.adapters.jsontext import load_json, partial_json, read_scalar
from lmbench.adapters.markers import foreign_section, marker
from lmbench.adapters.parse_memo import ReusesParses
from lmbench.adapters.plan import SignaturePlan, signature_plan
from lmbench.adapters.reasoning import mask_reasoning, missing_reason
from lmbench.adapters.results import last_written
from lmbench.adapters.scalars import CoercionError
from lmbench.adapters.turns import TurnAdapter
from lmbench.adapters.typeplan import MAPPING, MODEL
from lmbench.adapters.values import to_jsonable
from lmbench.errors import AdapterParseError
from lmbench.lm.base import LM
from lmbench.lm.types import LMRequest, Message
from lmbench.signatures.signature import Signature

__all__ = ["JSONAdapter"]

_SCHEMA_NAME = re.compile(r"[^A-Za-z0-9_-]")


def schema_name(signature: Signature) -> str:
    """A name for the response schema that providers accept (letters, digits, ``_``, ``-``)."""
    return _SCHEMA_NAME.sub("_", signature.name)[:64] or "output"


_MISSING = "the JSON object has no key '{name}'"


def _is_the_value(plan: SignaturePlan, obj: dict[str, Any]) -> bool:
    """A lone object/model output answered with its own fields rather than under its name."""
    if len(plan.outputs) != 1 or plan.outputs[0].type.kind not in (MODEL, MAPPING):
        return False
    return not has_output_keys(plan, obj)


class JSONAdapter(ReusesParses, TurnAdapter):
    """Inputs under ``[[ ## name ## ]]`` markers; the answer a JSON object of the outputs.

    ``structured_output=False`` never sends a response schema, even to LMs that take one.
    """

    name = "JSONAdapter"
    text_hint = "a string"

    def __init__(self, *, structured_output: bool = True) -> None:
        self.structured_output = structured_output

    def input_wrapper(self, name: str) -> tuple[str, str]:
        return f"{marker(name)}\n", ""

    def format_outputs(self, plan: SignaturePlan, values: Mapping[str, Any]) -> str:
        return json.dumps(to_jsonable(dict(values)), ensure_ascii=False, indent=2)

    def layout(self, plan: SignaturePlan) -> str:
        inputs = "\n\n".join(f"{marker(s.name)}\n{{{s.name}}}" for s in plan.inputs)
        keys = ",\n".join(f'  "{o.name}": {{{o.name}}}' for o in plan.outputs)
        text = ""
        if inputs:
            text = f"Inputs come marked like {marker('name')}, each value below its marker:\n\n{inputs}\n\n"
        return text + f"Answer with a single JSON object and nothing else:\n\n{{\n{keys}\n}}"

    def reminder(self, plan: SignaturePlan) -> str:
        keys = ", ".join(
            f"`{o.name}` ({value_hint(o.spec, self.text_hint, brief=True)})" for o in plan.outputs
        )
        return f"Respond with a JSON object with the keys {keys}."

    def uses_structured_output(self, lm: LM) -> bool:
        return self.structured_output and lm.capabilities.structured_output

    def build_request(
        self, lm: LM, signature: Signature, messages: list[Message], config: Mapping[str, Any]
    ) -> LMRequest:
        request = super().build_request(lm, signature, messages, config)
        if not self.uses_structured_output(lm):
            return request
        return request.replace(
            response_schema=signature.output_schema(), response_schema_name=schema_name(signature)
        )

    def parse_with_repairs(self, signature: Signature, text: str) -> ParseResult:
        plan = signature_plan(signature)
        answer, repairs = mask_reasoning(plan, text)
        single = plan.outputs[0].name if len(plan.outputs) == 1 else None
        try:
            obj, fixes = load_json(answer, "object")
        except CoercionError as exc:
            scalar = read_scalar(answer) if single is not None else None
            if scalar is None:
                reason = missing_reason(answer, repairs, exc.reason)
                raise self._structure_error(plan, text, reason) from None
            obj, fixes = scalar
        repairs.extend(Repair(rule, None, detail) for rule, detail in fixes)
        in_prose = any(rule == "json_in_prose" for rule, _ in fixes)
        section = foreign_section(plan, answer) if in_prose else None
        if section is not None:
            raise self._structure_error(
                plan,
                text,
                f"the answer is written in marked sections ({section}), not as a JSON object; "
                "JSON inside a section is not the answer",
            )
        if isinstance(obj, dict) and not _is_the_value(plan, obj):
            found = match_keys(plan, obj, repairs)
        elif single is not None and not in_prose:
            repairs.append(
                Repair("bare_value", single, "the answer is the value itself, not an object")
            )
            found = {single: Found(obj, (0, len(text)))}
        else:
            where = " inside other text" if single is not None else ""
            raise self._structure_error(
                plan, text, f"the answer is a JSON {type(obj).__name__}{where}, not an object"
            )
        return assemble_outputs(
            self.name,
            plan,
            found,
            text,
            repairs,
            missing_reason(answer, repairs, _MISSING),
            searched=answer,
            empty=obj == {} and not in_prose,
        )

    def _structure_error(self, plan: SignaturePlan, text: str, reason: str) -> AdapterParseError:
        keys = ", ".join(o.name for o in plan.outputs)
        return AdapterParseError(
            reason,
            adapter=self.name,
            # The field the answer stopped in, else the first one (an error names a field).
            field=last_written(plan.output_names, text) or plan.outputs[0].name,
            expected=f"a JSON object with the keys {keys}",
            raw=text,
            span=(0, len(text)),
        )

    def partial_fields(self, signature: Signature, text: str) -> dict[str, str]:
        plan = signature_plan(signature)
        obj = partial_json(mask_reasoning(plan, text)[0])
        if not isinstance(obj, dict):
            return {}
        out = {}
        for field in plan.outputs:
            if field.name in obj:
                value = obj[field.name]
                out[field.name] = (
                    value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                )
        return out

    def __repr__(self) -> str:
        return "JSONAdapter()" if self.structured_output else "JSONAdapter(structured_output=False)"
