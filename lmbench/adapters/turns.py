"""``TurnAdapter``: the shared shape of every prompt, with the field layout left to subclasses.

A prompt is one system message (the input and output fields, the layout, the task), then
each demo and each ``Conversation`` turn as an earlier user/assistant pair, then the user's turn
with the inputs and a reminder of the expected answer. Subclasses say how one field is
written (markers, tags, JSON...). Media inputs become content parts of the user message.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from lmbench.adapters.base import Adapter, Demos, Inputs
from lmbench.adapters.hints import describe_fields
from lmbench.adapters.plan import SignaturePlan, signature_plan
from lmbench.adapters.values import format_value, media_parts
from lmbench.lm.types import ContentPart, Message
from lmbench.signatures.signature import Signature

__all__ = ["TurnAdapter"]


class TurnAdapter(Adapter):
    """Adapters whose prompts are turns of text laid out field by field."""

    #: The hint for plain text outputs in field lists ("" where any text goes).
    text_hint: str = ""

    # -- what subclasses define -------------------------------------------------------------------

    @abstractmethod
    def input_wrapper(self, name: str) -> tuple[str, str]:
        """The text before and after an input field's value."""

    @abstractmethod
    def format_outputs(self, plan: SignaturePlan, values: Mapping[str, Any]) -> str:
        """An assistant turn holding these output values (demos and history)."""

    @abstractmethod
    def layout(self, plan: SignaturePlan) -> str:
        """The part of the system message that shows how messages are laid out."""

    @abstractmethod
    def reminder(self, plan: SignaturePlan) -> str:
        """The closing line of the user's turn: what to answer with, in which form."""

    # -- the shared prompt shape ------------------------------------------------------------------

    def format(self, signature: Signature, inputs: Inputs, demos: Demos = ()) -> list[Message]:
        plan = signature_plan(signature)
        system, reminder = plan.memo(
            type(self), lambda: (Message("system", self.system_text(plan)), self.reminder(plan))
        )
        messages = [system]
        for demo in demos:
            messages.extend(self._turn_pair(plan, demo))
        if plan.history is not None:
            for turn in inputs.get(plan.history) or ():
                messages.extend(self._turn_pair(plan, turn))
        messages.append(Message("user", self._input_content(plan, inputs, reminder)))
        return messages

    def system_text(self, plan: SignaturePlan) -> str:
        parts = []
        if plan.inputs:
            parts.append("Input fields:\n" + describe_fields(plan.inputs, outputs=False))
        outputs = [o.spec for o in plan.outputs]
        parts.append(
            "Output fields:\n" + describe_fields(outputs, outputs=True, text_hint=self.text_hint)
        )
        parts.append(self.layout(plan))
        parts.append("Your task: " + plan.signature.instructions)
        return "\n\n".join(parts)

    def _turn_pair(self, plan: SignaturePlan, record: Mapping[str, Any]) -> list[Message]:
        """A demo or history turn: a user message with its inputs, an assistant one with its outputs."""
        messages = []
        if any(spec.name in record for spec in plan.inputs):
            messages.append(Message("user", self._input_content(plan, record, "")))
        outputs = {o.name: record[o.name] for o in plan.outputs if o.name in record}
        if outputs:
            messages.append(Message("assistant", self.format_outputs(plan, outputs)))
        return messages

    def _input_content(
        self, plan: SignaturePlan, values: Mapping[str, Any], reminder: str
    ) -> str | list[ContentPart]:
        """The inputs present in ``values``, then the reminder; content parts if media is present."""
        blocks: list[str | list[ContentPart]] = []
        has_media = False
        for spec in plan.inputs:
            if spec.name not in values:
                continue
            value = values[spec.name]
            before, after = self.input_wrapper(spec.name)
            parts = None if isinstance(value, str) else media_parts(value)
            if parts is None:
                blocks.append(before + format_value(value) + after)
            else:
                has_media = True
                blocks.append([_text(before), *parts, _text(after)])
        if reminder:
            blocks.append(reminder)
        if not has_media:
            return "\n\n".join(blocks)  # type: ignore[arg-type]
        return _merge_parts(blocks)


def _text(text: str) -> ContentPart:
    return {"type": "text", "text": text}


def _merge_parts(blocks: list[str | list[ContentPart]]) -> list[ContentPart]:
    """Blocks joined by blank lines as content parts, adjacent text parts merged."""
    flat: list[ContentPart] = []
    for index, block in enumerate(blocks):
        if index:
            flat.append(_text("\n\n"))
        flat.extend([_text(block)] if isinstance(block, str) else block)
    merged: list[ContentPart] = []
    for part in flat:
        if part["type"] == "text" and merged and merged[-1]["type"] == "text":
            merged[-1] = _text(merged[-1]["text"] + part["text"])
        elif part["type"] != "text" or part["text"]:
            merged.append(part)
    return merged
