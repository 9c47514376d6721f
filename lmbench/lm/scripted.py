"""A scripted LM for users' own unit tests: no network, fully predictable.

``ScriptedLM(["first answer", "second answer"])`` answers in order;
``ScriptedLM({"capital of France": "Paris"})`` answers with the value of the first key found
in the prompt. A callable ``(request) -> str`` computes answers. Every request is kept in
``.requests`` so a test can assert on the exact prompt sent.

An answer may call tools, as a model with native tool calling does: a ``ToolCall``, a list
of them, or ``Reply(text, tool_calls)`` for text and calls together::

    ScriptedLM([ToolCall("lookup", {"city": "Paris"}), "It is 21 degrees."])

A script with tool calls makes the model report the ``tools`` capability (or pass
``tools=True``); calls without an ``id`` get ``call_1``, ``call_2``...
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from lmbench.errors import ConfigError
from lmbench.lm.base import BaseLM
from lmbench.lm.types import Capabilities, LMRequest, LMResponse, StreamChunk, ToolCall, Usage

__all__ = ["Reply", "ScriptedLM", "scripted_from_name"]


@dataclass(frozen=True)
class Reply:
    """A scripted answer with text and native tool calls together."""

    text: str = ""
    tool_calls: Sequence[ToolCall] = ()


#: One scripted answer: text, a tool call, several tool calls, or both (``Reply``).
Answer = str | ToolCall | Sequence[ToolCall] | Reply
Script = Sequence[Answer] | Mapping[str, Answer] | Callable[[LMRequest], Answer]


def _count_tokens(text: str) -> int:
    """A rough token count (about four characters a token), good enough for a test model."""
    return max(1, len(text) // 4) if text else 0


class ScriptedLM(BaseLM):
    """Returns scripted answers; records requests. Thread-safe."""

    provider = "scripted"
    free = True
    # Scripts answer in order; a cached answer would replay an earlier one. Set
    # ``lm.cacheable = True`` (or pass ``cache=True`` to a call) to exercise the cache.
    cacheable = False

    def __init__(
        self,
        script: Script,
        *,
        model: str = "test",
        repeat: bool = False,
        default: str | None = None,
        chunk_size: int = 8,
        tools: bool | None = None,
    ) -> None:
        self.model = model
        self.script = script
        self.repeat = repeat
        self.default = default
        self.chunk_size = chunk_size
        self.tools = _calls_tools(script) if tools is None else tools
        self.requests: list[LMRequest] = []
        self._position = 0
        self._call_ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(structured_output=False, tools=self.tools, multiple_choices=True)

    @property
    def last_prompt(self) -> str:
        """The text of the last request's messages, joined, for assertions."""
        if not self.requests:
            return ""
        return "\n\n".join(m.text for m in self.requests[-1].messages)

    def _next_answer(self, request: LMRequest) -> Answer:
        script = self.script
        if callable(script):
            return script(request)
        if isinstance(script, Mapping):
            prompt = "\n".join(m.text for m in request.messages)
            for key, answer in script.items():
                if key in prompt:
                    return answer
            if self.default is not None:
                return self.default
            raise ConfigError(
                "ScriptedLM has no scripted answer whose key appears in the prompt; "
                f"keys: {list(script)[:10]}. Add a key or pass default=..."
            )
        if self._position >= len(script):
            if self.repeat and script:
                self._position = 0
            elif self.default is not None:
                return self.default
            else:
                raise ConfigError(
                    f"ScriptedLM ran out of answers after {len(script)} calls; "
                    "add answers, or pass repeat=True or default=..."
                )
        answer = script[self._position]
        self._position += 1
        return answer

    def generate(self, request: LMRequest) -> LMResponse:
        with self._lock:
            self.requests.append(request)
            answers = [self._next_answer(request) for _ in range(max(1, request.n))]
            calls = self._calls_of(answers[0])
        texts = [a if isinstance(a, str) else _as_reply(a).text for a in answers]
        prompt_tokens = sum(_count_tokens(m.text) for m in request.messages)
        output_tokens = sum(_count_tokens(t) for t in texts)
        output_tokens += sum(_count_tokens(f"{c.name}{c.arguments}") for c in calls)
        return LMResponse(
            texts=texts,
            model=self.model,
            provider=self.provider,
            tool_calls=calls,
            usage=Usage(prompt_tokens, output_tokens),
            finish_reason="tool_calls" if calls else "stop",
        )

    def _calls_of(self, answer: Answer) -> list[ToolCall]:
        """The answer's tool calls, each with an id (``call_1``... when it has none)."""
        if isinstance(answer, str):
            return []
        return [
            call if call.id else replace(call, id=f"call_{next(self._call_ids)}")
            for call in _as_reply(answer).tool_calls
        ]

    def stream(self, request: LMRequest) -> Iterator[StreamChunk]:
        response = self.generate(request)
        text = response.text
        for start in range(0, len(text), self.chunk_size):
            yield StreamChunk(text=text[start : start + self.chunk_size])
        yield StreamChunk(text="", response=response)


def _as_reply(answer: Answer) -> Reply:
    if isinstance(answer, str):
        return Reply(answer)
    if isinstance(answer, Reply):
        return answer
    if isinstance(answer, ToolCall):
        return Reply("", (answer,))
    if isinstance(answer, Sequence) and all(isinstance(c, ToolCall) for c in answer):
        return Reply("", tuple(answer))
    raise ConfigError(
        f"ScriptedLM answer {answer!r} ({type(answer).__name__}) is not text, a ToolCall, a "
        "list of ToolCalls or a Reply"
    )


def _calls_tools(script: Script) -> bool:
    """Whether a script's answers include tool calls (a callable script: unknown, so no)."""
    if callable(script):
        return False
    answers = script.values() if isinstance(script, Mapping) else script
    return any(_as_reply(a).tool_calls for a in answers)


def scripted_from_name(model: str, **kwargs: Any) -> ScriptedLM:
    """Registry factory for ``"scripted/<name>"``: an echo model unless a script is given."""
    script = kwargs.pop("script", None)
    if script is None:
        return ScriptedLM(
            lambda r: r.messages[-1].text if r.messages else "", model=model, **kwargs
        )
    return ScriptedLM(script, model=model, **kwargs)
