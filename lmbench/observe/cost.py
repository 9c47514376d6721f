"""USD cost of LM calls, from the ``genai-prices`` data bundled with the package (offline).

Token conventions: ``Usage.input_tokens`` counts every prompt token *including* the cached
ones (``cached_tokens`` is the part read from the provider's prompt cache, billed at the
cache-read rate), and ``output_tokens`` includes reasoning tokens. Providers normalise their
wire usage to this before it gets here.

A model without price data costs ``None`` with ``known=False``, never a made-up 0. Models
marked ``free`` (local and scripted) cost 0. ``set_price`` prices models the data lacks
(self-hosted endpoints, private deployments).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from typing import Any, Literal

from lmbench.errors import ConfigError
from lmbench.lm.types import LMRequest, Usage

__all__ = [
    "CACHE_HIT",
    "FREE",
    "UNKNOWN",
    "Price",
    "context_window",
    "estimate_usage",
    "price_of",
    "set_price",
]

PriceSource = Literal["genai-prices", "custom", "free", "cache", "unknown"]


@dataclass(frozen=True, slots=True)
class Price:
    """The cost of a call. ``usd`` is None exactly when ``known`` is False."""

    usd: float | None
    known: bool
    source: PriceSource


FREE = Price(0.0, True, "free")
UNKNOWN = Price(None, False, "unknown")
CACHE_HIT = Price(0.0, True, "cache")

# (provider, model) -> USD per million (input, output, cached input) tokens
_custom: dict[tuple[str, str], tuple[float, float, float]] = {}
_unpriced: set[tuple[str, str]] = set()
_lock = threading.Lock()


def set_price(name: str, *, input: float, output: float, cached_input: float | None = None) -> None:
    """Price ``"provider/model"`` at ``input``/``output`` USD per million tokens.

    ``cached_input`` (default: the input price) is the rate of prompt-cache reads.
    """
    provider, sep, model = name.partition("/")
    if not sep or not model:
        raise ConfigError(
            f"set_price name {name!r} has no provider prefix: write it as 'provider/model'"
        )
    with _lock:
        _custom[(provider, model)] = (
            input,
            output,
            input if cached_input is None else cached_input,
        )
        _unpriced.discard((provider, model))


def _custom_price(rates: tuple[float, float, float], usage: Usage) -> Price:
    input_rate, output_rate, cached_rate = rates
    uncached = max(0, usage.input_tokens - usage.cached_tokens)
    usd = (
        uncached * input_rate
        + usage.cached_tokens * cached_rate
        + usage.output_tokens * output_rate
    ) / 1_000_000
    return Price(usd, True, "custom")


def _genai_price(provider: str, model: str, usage: Usage) -> Price | None:
    if (provider, model) in _unpriced:
        return None
    import genai_prices

    tokens: dict[str, Any] = {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
    }
    if usage.cached_tokens:
        tokens["cache_read_tokens"] = min(usage.cached_tokens, usage.input_tokens)
    try:
        result = genai_prices.calc_price(genai_prices.Usage(**tokens), model, provider_id=provider)
    except LookupError:
        with _lock:
            _unpriced.add((provider, model))
        return None
    return Price(float(result.total_price), True, "genai-prices")


def price_of(lm: Any, usage: Usage, *, model: str | None = None) -> Price:
    """The cost of ``usage`` on ``lm``; ``model`` is the model the provider reports it used.

    The reported model is priced first (it may be a dated variant), then the requested one.
    """
    if getattr(lm, "free", False):
        return FREE
    provider = str(getattr(lm, "provider", ""))
    candidates = [m for m in (model, str(getattr(lm, "model", ""))) if m]
    for candidate in dict.fromkeys(candidates):
        rates = _custom.get((provider, candidate))
        if rates is not None:
            return _custom_price(rates, usage)
    for candidate in dict.fromkeys(candidates):
        price = _genai_price(provider, candidate, usage)
        if price is not None:
            return price
    return UNKNOWN


def _content_chars(content: Any) -> int:
    if isinstance(content, str):
        return len(content)
    return sum(len(part.get("text", "")) for part in content if isinstance(part, dict))


def estimate_usage(request: LMRequest) -> Usage:
    """An upper-leaning estimate of a call's usage before it is made.

    Input: about four characters a token over the messages, tool specs and schema, plus a
    few tokens of framing a message. Output: ``max_tokens`` when set (the most the call can
    produce), else 0, so the estimate is then a lower bound.
    """
    chars = sum(_content_chars(m.content) for m in request.messages)
    if request.tools or request.response_schema:
        import json

        chars += len(json.dumps([t.to_dict() for t in request.tools], default=str))
        chars += len(json.dumps(request.response_schema, default=str))
    input_tokens = chars // 4 + 4 * len(request.messages)
    output_tokens = (request.max_tokens or 0) * max(1, request.n)
    return Usage(input_tokens=input_tokens, output_tokens=output_tokens)


def context_window(lm: Any) -> int | None:
    """The model's context window in tokens: the LM's own ``context_window`` if it has one,
    else the ``genai-prices`` data's; None when unknown (and for free models, which need none)."""
    own = getattr(lm, "context_window", None)
    if isinstance(own, int):
        return own
    if getattr(lm, "free", False):
        return None
    return _window(str(getattr(lm, "provider", "")), str(getattr(lm, "model", "")))


@functools.lru_cache(maxsize=256)
def _window(provider: str, model: str) -> int | None:
    from genai_prices import data_snapshot  # heavy: loaded only when a budget needs it

    try:
        _, info = data_snapshot.get_snapshot().find_provider_model(model, None, provider, None)
    except LookupError:
        return None
    return info.context_window
