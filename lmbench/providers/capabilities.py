"""What each remote model can do natively, by provider and then by model name.

Adapters read these to choose a strategy (native JSON schema or prompted JSON, native tools
or not, ``n`` choices in one request or several calls). A provider's defaults describe its
API (``services.PROVIDERS``); the rules below narrow them for model families known to lack a
feature. Pass
``capabilities=`` to a factory to override both for a model this table gets wrong.
"""

from __future__ import annotations

import re
from dataclasses import replace

from lmbench.lm.types import Capabilities
from lmbench.providers.services import ONE_CHOICE, PROVIDERS

__all__ = ["capabilities_for"]

_TEXT_ONLY = frozenset[str]()

# (provider, model pattern, changes): model families known to lack a feature.
_RULES: list[tuple[str, re.Pattern[str], dict[str, object]]] = [
    # Structured outputs start with Claude Opus 4.1 / Sonnet 4.5: not Claude 2, 3 or 4.0.
    (
        "anthropic",
        re.compile(r"^claude-(?:instant|2|3)|^claude-(?:sonnet|opus)-4(?:-0|-\d{8})?$"),
        {"structured_output": False},
    ),
    ("deepseek", re.compile(r"reasoner"), {"tools": False}),
    ("openai", re.compile(r"^o1-(?:mini|preview)"), {"structured_output": False, "tools": False}),
    # Text-only model families: media inputs are refused before anything is sent.
    ("openai", re.compile(r"^(?:gpt-3\.5|o1-mini|o1-preview|o3-mini)"), {"media": _TEXT_ONLY}),
    ("anthropic", re.compile(r"^claude-(?:instant|2)"), {"media": _TEXT_ONLY}),
    (
        "mistral",
        re.compile(r"^(?:open-)?(?:mistral-(?:tiny|small-2[34]|7b)|mixtral|codestral)"),
        {"media": _TEXT_ONLY},
    ),
]


def capabilities_for(provider: str, model: str) -> Capabilities:
    """The capabilities of ``provider/model`` (conservative for unknown providers)."""
    service = PROVIDERS.get(provider)
    capabilities = service.capabilities if service is not None else ONE_CHOICE
    for rule_provider, pattern, changes in _RULES:
        if rule_provider == provider and pattern.search(model):
            capabilities = replace(capabilities, **changes)
    return capabilities
