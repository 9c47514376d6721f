"""USD cost of LM calls, from the ``genai-prices`` data bundled with the package (offline).

Token conventions: ``Usage.input_tokens`` counts every prompt token *including* the cached
ones (``cached_tokens`` is the part read from the provider's prompt cache, billed at the
cache-read rate), and ``output_tokens`` includes reasoning tokens. Providers normalise their
wire usage to this before it gets here.

A model without price data costs ``None`` with ``known=False``, never a made-up 0. Models
marked ``free`` (local and scripted) cost 0. ``set_price`` prices models the data lacks
(self-hosted endpoints, private deployments).

genai-prices is asked once per model for its rates: where they are plain per-token prices
(most models) each call is priced from them directly, with the same Decimal arithmetic and
result as ``genai_prices.calc_price`` (checked on the first call), and hundreds of
microseconds faster; any other price shape is computed by genai-prices every time.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from lmbench.errors import ConfigError
from lmbench.lm.types import LMRequest, Usage

__all__ = [
    "CACHE_HIT",
    "FREE",
    "UNKNOWN",
    "Price",
    "context_window",
    "custom_prices",
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


def custom_prices() -> dict[str, tuple[float, float, float]]:
    """The prices set with ``set_price``: ``"provider/model"`` -> (input, output, cached input)
    USD per million tokens (sent with Dask tasks, so workers price calls alike)."""
    with _lock:
        return {f"{provider}/{model}": rates for (provider, model), rates in _custom.items()}


def _custom_price(rates: tuple[float, float, float], usage: Usage) -> Price:
    input_rate, output_rate, cached_rate = rates
    uncached = max(0, usage.input_tokens - usage.cached_tokens)
    usd = (
        uncached * input_rate
        + usage.cached_tokens * cached_rate
        + usage.output_tokens * output_rate
    ) / 1_000_000
    return Price(usd, True, "custom")


def _genai_tokens(usage: Usage) -> dict[str, int]:
    """Usage in genai-prices' terms (cache reads are part of the input tokens there too)."""
    tokens = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
    if usage.cached_tokens:
        tokens["cache_read_tokens"] = min(usage.cached_tokens, usage.input_tokens)
    return tokens


@dataclass(frozen=True, slots=True)
class _Rates:
    """A model's per-token genai-prices rates as integers over one ``scale``.

    genai-prices sums Decimal products that are exact at these sizes, then lmbench takes the
    float of the sum; an integer sum divided by an integer (correctly rounded in Python)
    gives that same float, for a fraction of the cost.
    """

    input: int
    output: int
    cache_read: int | None  # None: cache reads are priced as input
    scale: int

    @classmethod
    def of(cls, prices: dict[str, Decimal]) -> _Rates:
        digits = max(-int(p.as_tuple().exponent) for p in prices.values())
        step = Decimal(10) ** digits

        def scaled(key: str) -> int:
            return int(prices.get(key, 0) * step)

        read = scaled("cache_read_mtok") if "cache_read_mtok" in prices else None
        return cls(scaled("input_mtok"), scaled("output_mtok"), read, 10 ** (digits + 6))

    def usd(self, usage: Usage) -> float:
        total = usage.output_tokens * self.output
        if self.cache_read is None or not usage.cached_tokens:
            total += usage.input_tokens * self.input
        else:
            cached = min(usage.cached_tokens, usage.input_tokens)
            total += (usage.input_tokens - cached) * self.input + cached * self.cache_read
        return total / self.scale


# The per-token rates lmbench's usage is priced by; tiered and dated prices, or anything the
# check in ``_plain_rates`` finds different, go through genai-prices on every call.
_PLAIN_RATES = frozenset({"input_mtok", "output_mtok", "cache_read_mtok"})
_MISSING: Any = object()
_CHECKS = (Usage(1_234_567, 76_543, 4_321), Usage(3, 1_001, 0), Usage(999, 0, 999))
# (provider, model) -> plain rates, or None to ask genai-prices each time (unpriced models are
# in ``_unpriced``), for the genai-prices data in ``_snapshot`` (a price update starts anew).
# The lookup is cached, never a result: every call is priced from its own usage.
_lookups: dict[tuple[str, str], _Rates | None] = {}
_snapshot: Any = None
_snapshots: Any = None  # the genai_prices.data_snapshot module, imported at first use


def _plain_rates(provider: str, model: str, usage: Usage) -> _Rates | None:
    """The model's rates when they are plain per-token prices that reproduce genai-prices'
    own figures (for ``usage`` and a few others); None otherwise. ``LookupError`` for a
    model genai-prices does not know."""
    from genai_prices import Usage as GenaiUsage
    from genai_prices.types import ModelPrice

    found_provider, info = _snapshot.find_provider_model(model, None, provider, None)
    if not isinstance(info.prices, ModelPrice):
        return None  # prices that change with the date or time: genai-prices picks each time
    prices = {k: v for k, v in vars(info.prices).items() if k in _PLAIN_RATES and v is not None}
    if not prices or not all(isinstance(v, Decimal) for v in prices.values()):
        return None  # tiered prices
    # Prices of what lmbench never reports (web searches, audio, cache writes) add nothing;
    # anything that would (a per-request fee) fails this check.
    rates = _Rates.of(prices)
    for sample in (usage, *_CHECKS):
        try:
            expected = info.calc_price(GenaiUsage(**_genai_tokens(sample)), found_provider)
        except ValueError:  # a price shape that rejects some usage: leave it to genai-prices
            return None
        if float(expected.total_price) != rates.usd(sample):
            return None
    return rates


def _genai_price(provider: str, model: str, usage: Usage) -> Price | None:
    global _snapshot, _snapshots
    key = (provider, model)
    if key in _unpriced:
        return None
    if _snapshots is None:
        import genai_prices.data_snapshot as _snapshots
    snapshot = _snapshots.get_snapshot()
    if snapshot is not _snapshot:
        _lookups.clear()
        _snapshot = snapshot
    rates = _lookups.get(key, _MISSING)
    if rates is _MISSING:
        try:
            rates = _lookups[key] = _plain_rates(provider, model, usage)
        except LookupError:
            with _lock:
                _unpriced.add(key)
            return None
    if rates is not None:
        return Price(rates.usd(usage), True, "genai-prices")
    import genai_prices

    tokens = genai_prices.Usage(**_genai_tokens(usage))
    result = genai_prices.calc_price(tokens, model, provider_id=provider)
    return Price(float(result.total_price), True, "genai-prices")


def price_of(lm: Any, usage: Usage, *, model: str | None = None) -> Price:
    """The cost of ``usage`` on ``lm``; ``model`` is the model the provider reports it used.

    The reported model is priced first (it may be a dated variant), then the requested one.
    """
    if getattr(lm, "free", False):
        return FREE
    provider = str(getattr(lm, "provider", ""))
    requested = str(getattr(lm, "model", ""))
    candidates = (model, requested) if model and model != requested else (requested,)
    if _custom:
        for candidate in candidates:
            rates = _custom.get((provider, candidate))
            if rates is not None:
                return _custom_price(rates, usage)
    for candidate in candidates:
        if not candidate:
            continue
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
