"""Cost from genai-prices: a known model, an unknown one, free LMs, cache hits, custom prices."""

from __future__ import annotations

from decimal import Decimal

import genai_prices
import pytest

from lmbench.calls import lm_call, module_call
from lmbench.errors import ConfigError
from lmbench.lm import BaseLM, LMRequest, LMResponse, Message, ScriptedLM, Usage
from lmbench.observe import MemoryCollector, estimate_usage, price_of, set_price
from lmbench.observe import cost as cost_module


class PaidLM(BaseLM):
    """A remote-looking LM answering with fixed usage (no network)."""

    def __init__(
        self, provider: str, model: str, usage: Usage, reported_model: str | None = None
    ) -> None:
        self.provider = provider
        self.model = model
        self.usage = usage
        self.reported_model = reported_model or model
        self.calls = 0

    def generate(self, request: LMRequest) -> LMResponse:
        self.calls += 1
        return LMResponse(
            texts=["ok"], model=self.reported_model, provider=self.provider, usage=self.usage
        )


REQUEST = LMRequest(messages=(Message("user", "Say ok."),))


def _expected(
    model: str, provider: str, input_tokens: int, output_tokens: int, cached: int = 0
) -> float:
    tokens = {"input_tokens": input_tokens, "output_tokens": output_tokens}
    if cached:
        tokens["cache_read_tokens"] = cached
    price = genai_prices.calc_price(genai_prices.Usage(**tokens), model, provider_id=provider)
    return float(price.total_price)


def test_a_known_model_is_priced_from_genai_prices(collector: MemoryCollector) -> None:
    lm = PaidLM(
        "openai", "gpt-4o-mini", Usage(input_tokens=1200, output_tokens=300, cached_tokens=200)
    )
    with module_call("Predict") as mc, lm_call(lm, REQUEST, cache=False) as call:
        call.run()
    expected = _expected("gpt-4o-mini", "openai", 1200, 300, cached=200)
    assert expected > 0
    entry = collector.entries()[0]
    assert entry.cost_usd == pytest.approx(expected, rel=1e-12)
    assert entry.cost_known is True
    assert mc.cost == pytest.approx(expected, rel=1e-12)
    assert mc.cost_known is True
    # the cache-read tokens are cheaper than the others
    assert expected < _expected("gpt-4o-mini", "openai", 1200, 300)


def test_the_reported_dated_model_is_priced() -> None:
    lm = PaidLM("openai", "gpt-4o-mini", Usage(1000, 1000), reported_model="gpt-4o-mini-2024-07-18")
    price = price_of(lm, Usage(1000, 1000), model="gpt-4o-mini-2024-07-18")
    assert price.known and price.source == "genai-prices"
    assert price.usd == pytest.approx(_expected("gpt-4o-mini-2024-07-18", "openai", 1000, 1000))


def test_an_unknown_model_costs_none_with_a_flag(collector: MemoryCollector) -> None:
    lm = PaidLM("openai", "no-such-model-anywhere", Usage(100, 100))
    known = PaidLM("openai", "gpt-4o-mini", Usage(100, 100))
    with module_call("Program") as mc:
        for one in (known, lm):
            with lm_call(one, REQUEST, cache=False) as call:
                call.run()
    priced, unpriced, _module = collector.entries()
    assert priced.cost_usd is not None and priced.cost_known
    assert unpriced.cost_usd is None
    assert unpriced.cost_known is False
    assert mc.cost is None
    assert mc.cost_known is False
    assert mc.to_dict()["cost_known"] is False


def test_free_lms_cost_zero(collector: MemoryCollector) -> None:
    with lm_call(ScriptedLM(["x"]), REQUEST) as call:
        call.run()
    entry = collector.entries()[0]
    assert (entry.cost_usd, entry.cost_known) == (0.0, True)
    assert price_of(ScriptedLM(["x"]), Usage(10**6, 10**6)).source == "free"


def test_a_cache_hit_costs_zero_and_records_the_saved_cost(collector: MemoryCollector) -> None:
    lm = PaidLM("anthropic", "claude-3-5-haiku-latest", Usage(500, 100))
    for _ in range(2):
        with lm_call(lm, REQUEST) as call:
            call.run()
    miss, hit = collector.entries()
    expected = _expected("claude-3-5-haiku-latest", "anthropic", 500, 100)
    assert lm.calls == 1
    assert (miss.cache, miss.cost_usd, miss.saved_usd) == ("miss", pytest.approx(expected), None)
    assert (hit.cache, hit.cost_usd, hit.saved_usd) == ("memory", 0.0, pytest.approx(expected))


def test_set_price_prices_a_model_the_data_lacks() -> None:
    lm = PaidLM("vllm", "my-private-model", Usage(2_000_000, 1_000_000, cached_tokens=1_000_000))
    assert price_of(lm, lm.usage).known is False
    try:
        set_price("vllm/my-private-model", input=1.0, output=2.0, cached_input=0.5)
        price = price_of(lm, lm.usage)
        # 1M uncached input at $1 + 1M cached at $0.5 + 1M output at $2
        assert (price.usd, price.known, price.source) == (pytest.approx(3.5), True, "custom")
    finally:
        cost_module._custom.clear()


def test_set_price_needs_a_provider_prefix() -> None:
    with pytest.raises(ConfigError, match="'provider/model'"):
        set_price("gpt-x", input=1, output=1)


def test_estimate_usage_counts_the_prompt_and_max_tokens() -> None:
    request = LMRequest(
        messages=(Message("system", "x" * 400), Message("user", "y" * 400)), max_tokens=50, n=2
    )
    estimate = estimate_usage(request)
    assert estimate.input_tokens == 800 // 4 + 4 * 2
    assert estimate.output_tokens == 100
    assert estimate_usage(request.replace(max_tokens=None)).output_tokens == 0


def test_genai_prices_returns_decimals_we_store_floats() -> None:
    price = price_of(PaidLM("openai", "gpt-4o-mini", Usage()), Usage(1, 1))
    assert isinstance(price.usd, float)
    assert Decimal(str(price.usd)) > 0


MODELS = [
    ("openai", "gpt-4o-mini"),
    ("openai", "gpt-4o-mini-2024-07-18"),
    ("anthropic", "claude-3-5-haiku-latest"),
    ("google", "gemini-2.5-flash"),
    ("google", "gemini-1.5-pro"),  # tiered prices: genai-prices computes each call
    ("deepseek", "deepseek-chat"),  # prices by time of day: genai-prices computes each call
    ("mistral", "mistral-large-latest"),
    ("groq", "llama-3.3-70b-versatile"),
]


@pytest.mark.parametrize(("provider", "model"), MODELS)
def test_priced_exactly_as_genai_prices_computes_it(provider: str, model: str) -> None:
    import random

    rng = random.Random(f"{provider}/{model}")
    lm = PaidLM(provider, model, Usage())
    for _ in range(100):
        usage = Usage(
            input_tokens=rng.randint(0, 400_000),
            output_tokens=rng.randint(0, 20_000),
            cached_tokens=rng.choice([0, rng.randint(0, 500_000)]),
        )
        tokens = {"input_tokens": usage.input_tokens, "output_tokens": usage.output_tokens}
        if usage.cached_tokens:
            tokens["cache_read_tokens"] = min(usage.cached_tokens, usage.input_tokens)
        expected = genai_prices.calc_price(
            genai_prices.Usage(**tokens), model, provider_id=provider
        ).total_price
        assert price_of(lm, usage).usd == float(expected)


def test_the_price_lookup_is_cached_never_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    lm = PaidLM("openai", "gpt-4o-mini", Usage())
    first = price_of(lm, Usage(1000, 10)).usd
    assert ("openai", "gpt-4o-mini") in cost_module._lookups  # looked up once
    calls: list[object] = []
    real = genai_prices.calc_price
    monkeypatch.setattr(
        genai_prices, "calc_price", lambda *a, **k: calls.append(a) or real(*a, **k)
    )
    second = price_of(lm, Usage(2000, 20)).usd
    assert calls == [] and second == pytest.approx(2 * (first or 0))
    # A new price snapshot (genai-prices' UpdatePrices) is looked up afresh.
    from genai_prices import data_snapshot

    snapshot = data_snapshot.get_snapshot()
    fresh = data_snapshot.DataSnapshot(providers=snapshot.providers, from_auto_update=True)
    monkeypatch.setattr(data_snapshot, "_custom_snapshot", fresh)
    assert price_of(lm, Usage(1000, 10)).usd == first
    assert cost_module._snapshot is fresh
