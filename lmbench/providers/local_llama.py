"""llama-cpp-python's ``Llama``, adjusted: token counts for streams, faster grammar decoding.

Imported lazily, once llama_cpp is known to be installed (it needs numpy and llama_cpp).

``LocalLlama.last_completion_tokens`` counts the tokens of the last completion:
llama-cpp-python reports usage only on non-streamed completions.

Greedy decoding under a grammar checks the grammar only when it matters. llama-cpp-python puts the grammar inside the sampler chain, so every token checks all of the
vocabulary (262k entries for Gemma 3) against the grammar: structured output ran about three
times slower than free text. ``GrammarLastSampler`` does what llama.cpp's own tools do:
pick the token without the grammar, ask the grammar about that one token, and only when it
is refused pick again with the grammar applied to every candidate. Under greedy decoding the
answer is exactly the same (the best token, if allowed, is the best allowed token); sampling
at a temperature keeps llama-cpp-python's chain, whose distribution this shortcut would bend.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import llama_cpp
import numpy as np

from lmbench.errors import ConfigError

__all__ = ["GrammarLastSampler", "LocalLlama"]


class GrammarLastSampler:
    """Stands in for llama-cpp-python's ``LlamaSampler`` (its ``sample`` and ``close``)."""

    def __init__(self, chain: Any, model: Any, grammar: Any) -> None:
        """``chain``: a grammar-free ``LlamaSampler``; ``model``: the ``LlamaModel``."""
        self._chain = chain
        self._grammar = llama_cpp.llama_sampler_init_grammar(
            model.vocab, grammar._grammar.encode("utf-8"), grammar._root.encode("utf-8")
        )
        if not self._grammar:
            chain.close()
            raise ConfigError(
                "llama.cpp rejected the grammar built from response_schema; simplify the "
                "schema (plain objects, arrays, enums and scalar types work)"
            )
        self._n_vocab = model.n_vocab()
        self._candidates = (llama_cpp.llama_token_data * self._n_vocab)()
        self._view = np.ctypeslib.as_array(self._candidates)
        self._ids = np.arange(self._n_vocab, dtype=np.int32)
        self._one = (llama_cpp.llama_token_data * 1)()

    def sample(self, ctx: Any, idx: int = -1) -> int:
        pointer = llama_cpp.llama_get_logits_ith(ctx.ctx, idx)
        logits = np.ctypeslib.as_array(pointer, shape=(self._n_vocab,))
        token = self._pick(logits, with_grammar=False)
        if not self._allowed(token):
            token = self._pick(logits, with_grammar=True)
        llama_cpp.llama_sampler_accept(self._grammar, token)
        self._chain.accept(token)
        return token

    def _pick(self, logits: Any, *, with_grammar: bool) -> int:
        self._view["id"] = self._ids
        self._view["logit"] = logits
        self._view["p"] = 0.0
        candidates = llama_cpp.llama_token_data_array(
            data=ctypes.cast(self._candidates, llama_cpp.llama_token_data_p),
            size=self._n_vocab,
            selected=-1,
            sorted=False,
        )
        if with_grammar:
            llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(candidates))
        llama_cpp.llama_sampler_apply(self._chain.sampler, ctypes.byref(candidates))
        return int(candidates.data[candidates.selected].id)

    def _allowed(self, token: int) -> bool:
        self._one[0].id = token
        self._one[0].logit = 0.0
        self._one[0].p = 0.0
        candidates = llama_cpp.llama_token_data_array(
            data=ctypes.cast(self._one, llama_cpp.llama_token_data_p),
            size=1,
            selected=-1,
            sorted=False,
        )
        llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(candidates))
        return not math.isinf(self._one[0].logit)

    def close(self) -> None:
        if self._grammar:
            llama_cpp.llama_sampler_free(self._grammar)
            self._grammar = None
        self._chain.close()

    def __del__(self) -> None:
        self.close()


class LocalLlama(llama_cpp.Llama):  # type: ignore[misc]
    """``Llama`` counting generated tokens and sampling greedy grammars grammar-last."""

    last_completion_tokens = 0

    def generate(self, tokens: Any, *args: Any, **kwargs: Any) -> Any:
        self.last_completion_tokens = 0
        for token in super().generate(tokens, *args, **kwargs):
            # The end-of-generation token ends the loop and is not part of the text.
            if not llama_cpp.llama_vocab_is_eog(self._model.vocab, token):
                self.last_completion_tokens += 1
            yield token

    def _init_sampler(self, **kwargs: Any) -> Any:
        grammar = kwargs.get("grammar")
        if grammar is None or kwargs.get("temp") != 0.0:
            return super()._init_sampler(**kwargs)
        chain = super()._init_sampler(**{**kwargs, "grammar": None})
        return GrammarLastSampler(chain, self._model, grammar)
