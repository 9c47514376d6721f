"""The LM protocol, request/response types, the name registry and the scripted test LM."""

from lmbench.lm.base import LM, BaseLM
from lmbench.lm.registry import DEFAULT_MODEL, known_providers, register_provider, resolve_lm
from lmbench.lm.scripted import ScriptedLM
from lmbench.lm.types import (
    Attempt,
    Capabilities,
    LMRequest,
    LMResponse,
    Message,
    StreamChunk,
    ToolCall,
    ToolSpec,
    Usage,
)

__all__ = [
    "DEFAULT_MODEL",
    "LM",
    "Attempt",
    "BaseLM",
    "Capabilities",
    "LMRequest",
    "LMResponse",
    "Message",
    "ScriptedLM",
    "StreamChunk",
    "ToolCall",
    "ToolSpec",
    "Usage",
    "known_providers",
    "register_provider",
    "resolve_lm",
]
