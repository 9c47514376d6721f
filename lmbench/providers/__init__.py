"""LM providers: wire formats on httpx and the embedded local model.

Names load on first use, so ``import lmbench.providers`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from lmbench.deprecation import Moved

if TYPE_CHECKING:
    from lmbench.providers.capabilities import capabilities_for
    from lmbench.providers.catalog import build_lm
    from lmbench.providers.local import LocalLM
    from lmbench.providers.provider import Provider
    from lmbench.providers.remote import RemoteLM
    from lmbench.providers.retry import RetryPolicy
    from lmbench.providers.retry_budget import RetryBudget
    from lmbench.providers.wire import (
        AnthropicMessages,
        CohereChat,
        GeminiGenerateContent,
        OllamaChat,
        OpenAIChat,
        WireFormat,
    )

__all__ = [
    "AnthropicMessages",
    "CohereChat",
    "GeminiGenerateContent",
    "LocalLM",
    "OllamaChat",
    "OpenAIChat",
    "Provider",
    "RemoteLM",
    "RetryBudget",
    "RetryPolicy",
    "WireFormat",
    "build_lm",
    "capabilities_for",
]

_WHERE = {
    "RetryPolicy": "retry",
    "RetryBudget": "retry_budget",
    "Provider": "provider",
    "RemoteLM": "remote",
    "build_lm": "catalog",
    "capabilities_for": "capabilities",
    "LocalLM": "local",
    "AnthropicMessages": "wire",
    "CohereChat": "wire",
    "GeminiGenerateContent": "wire",
    "OllamaChat": "wire",
    "OpenAIChat": "wire",
    "WireFormat": "wire",
}


# Secrets moved to the ground floor (``lmbench.secrets``) in 0.2; these names still work here,
# with a DeprecationWarning, until the next release.
_MOVED = Moved(
    __name__,
    {
        name: f"lmbench.secrets:{name}"
        for name in ("REDACTED", "Secret", "redact", "redact_headers")
    },
)


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        value = globals()[name] = _MOVED.load(name)  # warned once
        return value
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'lmbench.providers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lmbench.providers.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
