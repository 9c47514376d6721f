"""Wire formats: request bodies, response parsing and stream events of each remote API."""

from lmbench.providers.wire.anthropic import AnthropicMessages
from lmbench.providers.wire.base import StreamParser, WireError, WireFormat, WireRequest
from lmbench.providers.wire.cohere import CohereChat
from lmbench.providers.wire.gemini import GeminiGenerateContent
from lmbench.providers.wire.ollama import OllamaChat
from lmbench.providers.wire.openai_chat import OpenAIChat

__all__ = [
    "AnthropicMessages",
    "CohereChat",
    "GeminiGenerateContent",
    "OllamaChat",
    "OpenAIChat",
    "StreamParser",
    "WireError",
    "WireFormat",
    "WireRequest",
]
