"""Capabilities by provider, narrowed by model family."""

from __future__ import annotations

import pytest

from lmbench.providers.capabilities import capabilities_for


def test_provider_defaults() -> None:
    assert capabilities_for("openai", "gpt-4o").multiple_choices
    assert not capabilities_for("anthropic", "claude-sonnet-4-5").multiple_choices
    assert not capabilities_for("deepseek", "deepseek-chat").structured_output
    unknown = capabilities_for("someone-else", "x")
    assert unknown.tools and not unknown.multiple_choices


@pytest.mark.parametrize(
    ("model", "structured"),
    [
        ("claude-3-5-haiku-latest", False),
        ("claude-sonnet-4-20250514", False),
        ("claude-opus-4-0", False),
        ("claude-opus-4-1", True),
        ("claude-sonnet-4-5-20250929", True),
        ("claude-haiku-4-5", True),
    ],
)
def test_anthropic_structured_output_by_generation(model: str, structured: bool) -> None:
    assert capabilities_for("anthropic", model).structured_output is structured


def test_model_rules_touch_only_their_provider() -> None:
    assert not capabilities_for("deepseek", "deepseek-reasoner").tools
    assert capabilities_for("openrouter", "deepseek/deepseek-reasoner").tools
