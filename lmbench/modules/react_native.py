"""ReAct turns through the provider's native tool calling.

The conversation starts with the adapter's messages for a step signature (the inputs, and a
``next_thought`` output for the model's reasoning); the request declares the tools
(``LMRequest.tools``); the model answers with tool calls, which go back into the
conversation as an assistant message carrying them, and one ``tool`` message per call with
what it returned. A turn without tool calls ends the loop: the model is done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lmbench.adapters.base import Adapter
from lmbench.adapters.results import field_deltas
from lmbench.adapters.steps import Pull, Steps
from lmbench.calls import lm_call
from lmbench.errors import AdapterParseError
from lmbench.lm.base import LM
from lmbench.lm.types import LMRequest, Message, ToolCall, ToolSpec
from lmbench.signatures.signature import Signature

__all__ = ["NativeConversation", "NativeTurn"]

THOUGHT = "next_thought"


@dataclass(frozen=True)
class NativeTurn:
    """What the model did in one turn: its reasoning text and the tools it called."""

    thought: str
    calls: tuple[ToolCall, ...]


@dataclass
class NativeConversation:
    """The messages of a native tool-calling run, turn after turn.

    ``turns`` holds, per turn, the assistant message and its tool results; ``drop_oldest``
    removes a whole turn (so every tool result still follows its call) to fit the context.
    """

    lm: LM
    adapter: Adapter
    signature: Signature
    start: list[Message]
    tools: tuple[ToolSpec, ...]
    config: dict[str, Any]
    turns: list[list[Message]] = field(default_factory=list)

    def request(self) -> LMRequest:
        messages = [*self.start, *(m for turn in self.turns for m in turn)]
        request = self.adapter.build_request(self.lm, self.signature, messages, self.config)
        return request.replace(
            tools=self.tools,
            tool_choice=self.config.get("tool_choice") or "auto",
            response_schema=None,
        )

    def turn(self, streaming: bool) -> Steps[NativeTurn]:
        """One LM call with the tools declared; in a stream, deltas of the thought."""
        call = lm_call(
            self.lm, self.request(), adapter=self.adapter.name, cache=self.config.get("cache")
        )
        with call:
            if streaming:
                chunks, text, seen = Pull(call.stream, call.astream), "", {}
                while (chunk := (yield chunks)) is not None:
                    if chunk.index == 0 and chunk.text:
                        text += chunk.text
                        yield from field_deltas(self._partial(text), seen)
                response = call.response
            else:
                response = yield call
            assert response is not None
            call.set_parse(adapter=self.adapter.name, diagnostics=[])
        thought = self._thought(response.text)
        if streaming:
            yield from field_deltas({THOUGHT: thought}, seen, final=True)
        return NativeTurn(thought, tuple(response.tool_calls))

    def answered(self, turn: NativeTurn, observations: Sequence[str]) -> None:
        """Add a turn and what each of its tool calls returned to the conversation."""
        messages = [Message("assistant", turn.thought, tool_calls=turn.calls)]
        for call, observation in zip(turn.calls, observations, strict=True):
            messages.append(Message("tool", observation, tool_call_id=call.id, name=call.name))
        self.turns.append(messages)

    def drop_oldest(self) -> int:
        """Forget the oldest turn; the number of tool calls it held (0: none was left)."""
        if not self.turns:
            return 0
        dropped = self.turns.pop(0)
        return len(dropped[0].tool_calls)

    def _thought(self, text: str) -> str:
        """The reasoning in the answer: its ``next_thought`` field when the model kept the
        format, else the whole text."""
        if not text.strip():
            return ""
        try:
            value = self.adapter.parse(self.signature, text).get(THOUGHT)
        except AdapterParseError:
            return text.strip()
        return str(value).strip() if value else text.strip()

    def _partial(self, text: str) -> dict[str, str]:
        return self.adapter.partial_fields(self.signature, text) or {THOUGHT: text}
