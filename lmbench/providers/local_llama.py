"""llama-cpp-python's ``Llama``, adjusted: token counts for streams, faster grammar decoding.

Imported lazily, once llama_cpp is known to be installed (it needs numpy and llama_cpp).

``LocalLlama.last_completion_tokens`` counts the tokens of the last completion:
llama-cpp-python reports usage only on non-streamed completions.

Greedy decoding under a grammar: llama-cpp-python puts the grammar inside the sampler chain,
so every token checks the whole vocabulary (262k entries for Gemma 3) against the grammar,
and structured output ran about three times slower than free text. ``GrammarLastSampler``
picks the token without the grammar and asks the grammar about that one token, as llama.cpp's
own tools do; only when it is refused does it pick again with the grammar, first among the
``TOP_K`` highest logits, then, if none of those is allowed, among all. Every step keeps the
exact greedy answer: the best token, if allowed, is the best allowed token, and the best
allowed token among the top ones beats every token outside them as long as penalties only
lower logits (otherwise the top-k step is skipped). Sampling at a temperature keeps
llama-cpp-python's own chain, whose distribution these shortcuts would bend.
"""

from __future__ import annotations

import ctypes
import math
from typing import Any

import llama_cpp
import numpy as np

from lmbench.errors import ConfigError

__all__ = ["TOP_K", "GrammarLastSampler", "LocalLlama"]

#: How many of the highest logits are tried before the whole vocabulary.
TOP_K = 1024


class GrammarLastSampler:
    """Stands in for llama-cpp-python's ``LlamaSampler`` (its ``sample`` and ``close``)."""

    def __init__(self, chain: Any, model: Any, grammar: Any, *, top_k_first: bool) -> None:
        """``chain``: a grammar-free greedy ``LlamaSampler``; ``model``: the ``LlamaModel``.

        ``top_k_first`` only when the chain's penalties cannot raise a logit.
        """
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
        self._top_k = TOP_K if top_k_first and self._n_vocab > TOP_K else 0
        self._candidates = (llama_cpp.llama_token_data * self._n_vocab)()
        self._view = np.ctypeslib.as_array(self._candidates)
        self._ids = np.arange(self._n_vocab, dtype=np.int32)

    def sample(self, ctx: Any, idx: int = -1) -> int:
        pointer = llama_cpp.llama_get_logits_ith(ctx.ctx, idx)
        logits = np.ctypeslib.as_array(pointer, shape=(self._n_vocab,))
        top = np.argpartition(logits, -self._top_k)[-self._top_k :] if self._top_k else None
        token = self._best(logits, top, with_grammar=False)
        if not self._allowed(token):
            token = self._best(logits, top, with_grammar=True)
        llama_cpp.llama_sampler_accept(self._grammar, token)
        self._chain.accept(token)
        return token

    def _best(self, logits: Any, top: Any, *, with_grammar: bool) -> int:
        """The chain's greedy pick, among the top logits when that is provably the same."""
        if top is not None:
            top_logits = logits[top]
            token, logit = self._apply(top, top_logits, with_grammar=with_grammar)
            # Tokens outside `top` have logits <= its smallest, and penalties only lower them.
            if logit >= top_logits.min():
                return token
        return self._apply(self._ids, logits, with_grammar=with_grammar)[0]

    def _apply(self, ids: Any, logits: Any, *, with_grammar: bool) -> tuple[int, float]:
        size = len(ids)
        view = self._view[:size]
        view["id"] = ids
        view["logit"] = logits
        view["p"] = 0.0
        candidates = self._array(size)
        if with_grammar:
            llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(candidates))
        llama_cpp.llama_sampler_apply(self._chain.sampler, ctypes.byref(candidates))
        chosen = candidates.data[candidates.selected]
        return int(chosen.id), float(chosen.logit)

    def _allowed(self, token: int) -> bool:
        one = self._candidates[0]
        one.id, one.logit, one.p = token, 0.0, 0.0
        llama_cpp.llama_sampler_apply(self._grammar, ctypes.byref(self._array(1)))
        return not math.isinf(one.logit)

    def _array(self, size: int) -> Any:
        """The first ``size`` candidates as a ``llama_token_data_array`` for samplers."""
        return llama_cpp.llama_token_data_array(
            data=ctypes.cast(self._candidates, llama_cpp.llama_token_data_p),
            size=size,
            selected=-1,
            sorted=False,
        )

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
        greedy = kwargs.get("temp") == 0.0 and kwargs.get("logits_processor") is None
        if grammar is None or not greedy:
            return super()._init_sampler(**kwargs)
        chain = super()._init_sampler(**{**kwargs, "grammar": None})
        only_lowering = (
            kwargs.get("repeat_penalty", 1.0) >= 1.0
            and kwargs.get("frequency_penalty", 0.0) >= 0.0
            and kwargs.get("presence_penalty", 0.0) >= 0.0
        )
        return GrammarLastSampler(chain, self._model, grammar, top_k_first=only_lowering)
