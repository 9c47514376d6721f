"""A scripted LM for users' own unit tests: no network, fully predictable.

``ScriptedLM(["first answer", "second answer"])`` answers in order;
``ScriptedLM({"capital of France": "Paris"})`` answers with the value of the first key found
in the prompt. A callable ``(request) -> str`` computes answers. Every request is kept in
``.requests`` so a test can assert on the exact prompt sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from lmbench.errors import ConfigError
from lmbench.lm.base import BaseLM
from lmbench.lm.types import Capabilities, LMRequest, LMResponse, StreamChunk, Usage

__all__ = ["ScriptedLM", "scripted_from_name"]

Script = Sequence[str] | Mapping[str, str] | Callable[[LMRequest], str]


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
    ) -> None:
        self.model = model
        self.script = script
        self.repeat = repeat
        self.default = default
        self.chunk_size = chunk_size
        self.requests: list[LMRequest] = []
        self._position = 0
        self._lock = threading.Lock()

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(structured_output=False, tools=False, multiple_choices=True)

    @property
    def last_prompt(self) -> str:
        """The text of the last request's messages, joined, for assertions."""
        if not self.requests:
            return ""
        return "\n\n".join(m.text for m in self.requests[-1].messages)

    def _next_answer(self, request: LMRequest) -> str:
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
            texts = [self._next_answer(request) for _ in range(max(1, request.n))]
        prompt_tokens = sum(_count_tokens(m.text) for m in request.messages)
        return LMResponse(
            texts=texts,
            model=self.model,
            provider=self.provider,
            usage=Usage(prompt_tokens, sum(_count_tokens(t) for t in texts)),
            finish_reason="stop",
        )

    def stream(self, request: LMRequest) -> Iterator[StreamChunk]:
        response = self.generate(request)
        text = response.text
        for start in range(0, len(text), self.chunk_size):
            yield StreamChunk(text=text[start : start + self.chunk_size])
        yield StreamChunk(text="", response=response)


def scripted_from_name(model: str, **kwargs: Any) -> ScriptedLM:
    """Registry factory for ``"scripted/<name>"``: an echo model unless a script is given."""
    script = kwargs.pop("script", None)
    if script is None:
        return ScriptedLM(
            lambda r: r.messages[-1].text if r.messages else "", model=model, **kwargs
        )
    return ScriptedLM(script, model=model, **kwargs)
