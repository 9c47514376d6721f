"""LM providers: wire formats on httpx and the embedded local model.

Names load on first use, so ``import lmbench.providers`` (e.g. for ``redact``) stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lmbench.providers.capabilities import capabilities_for
    from lmbench.providers.catalog import build_lm
    from lmbench.providers.local import LocalLM
    from lmbench.providers.provider import Provider
    from lmbench.providers.remote import RemoteLM
    from lmbench.providers.retry import RetryPolicy
    from lmbench.providers.secrets import REDACTED, Secret, redact, redact_headers
    from lmbench.providers.wire import (
        AnthropicMessages,
        CohereChat,
        GeminiGenerateContent,
        OllamaChat,
        OpenAIChat,
        WireFormat,
    )

__all__ = [
    "REDACTED",
    "AnthropicMessages",
    "CohereChat",
    "GeminiGenerateContent",
    "LocalLM",
    "OllamaChat",
    "OpenAIChat",
    "Provider",
    "RemoteLM",
    "RetryPolicy",
    "Secret",
    "WireFormat",
    "build_lm",
    "capabilities_for",
    "redact",
    "redact_headers",
]

_WHERE = {
    "REDACTED": "secrets",
    "Secret": "secrets",
    "redact": "secrets",
    "redact_headers": "secrets",
    "RetryPolicy": "retry",
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


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'lmbench.providers' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"lmbench.providers.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
