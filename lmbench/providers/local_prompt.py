"""Chat messages -> one completion prompt for a base model.

The embedded model is a base (pretrained, not chat-tuned) model with no chat template, so a
conversation is written out as plain text: system text first, then one labelled paragraph per
turn, ending on the label where the assistant's answer starts. A trailing assistant message
is left open, so the model continues it (prefill). Generation stops where the model starts a
new user turn (``TURN_STOP``).

Example::

    Answer briefly.

    User: What is 2 + 2?

    Assistant:

Labels on the same line as the text were seen to give Gemma 3 270M's best answers (with the
label on a line of its own it tends to repeat the question). The model then opens its answer
with a space, which ``is_prefill`` tells the caller to drop.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from lmbench.errors import ConfigError
from lmbench.lm.types import Message

__all__ = ["TURN_STOP", "format_prompt", "is_prefill"]

#: Stop sequence ending the answer where the model starts writing the next user turn.
TURN_STOP = "\nUser:"

_LABELS = {"user": "User", "assistant": "Assistant", "tool": "Tool result"}


def _text_of(message: Message, position: int) -> str:
    if not isinstance(message.content, str):
        kinds = sorted({part.get("type", "?") for part in message.content} - {"text"})
        if kinds:
            raise ConfigError(
                f"the local model reads text only, but message {position} ({message.role}) has "
                f"{', '.join(repr(k) for k in kinds)} content; pick a multimodal model for it, "
                "e.g. lm='openai/gpt-4o-mini'"
            )
    text = message.text
    for call in message.tool_calls:
        text += f"\nTool call: {call.name} {json.dumps(call.arguments, ensure_ascii=False)}"
    return text


def format_prompt(messages: Sequence[Message]) -> str:
    """Write ``messages`` as a completion prompt ending where the assistant's answer starts."""
    system = [_text_of(m, i).strip("\n") for i, m in enumerate(messages) if m.role == "system"]
    turns = [(i, m) for i, m in enumerate(messages) if m.role != "system"]
    parts = [text for text in system if text]
    open_answer = is_prefill(messages)
    for i, message in turns:
        label = _LABELS[message.role]
        if message.role == "tool" and message.name:
            label += f" ({message.name})"
        text = _text_of(message, i).lstrip("\n")
        if not (open_answer and i == len(messages) - 1):
            text = text.rstrip("\n")
        parts.append(f"{label}: {text}")
    if not open_answer:
        parts.append("Assistant:")
    return "\n\n".join(parts)


def is_prefill(messages: Sequence[Message]) -> bool:
    """Whether the prompt ends inside an assistant message the model continues.

    When it does not, the prompt ends on the bare ``Assistant:`` label and the model's first
    character is the space after it, not part of the answer.
    """
    return bool(messages) and messages[-1].role == "assistant"
