"""Provider names resolve to the right endpoint, auth and wire format; keys and options."""

from __future__ import annotations

import httpx
import pytest
from provider_faults import FaultServer, chat_body, respond

from lmbench.errors import AuthenticationError, ConfigError
from lmbench.lm.registry import known_providers, resolve_lm
from lmbench.lm.types import LMRequest, Message
from lmbench.providers.catalog import SERVICES
from lmbench.providers.remote import RemoteLM
from lmbench.providers.wire import (
    AnthropicMessages,
    CohereChat,
    GeminiGenerateContent,
    OllamaChat,
    OpenAIChat,
)
from lmbench.settings import context

REQUEST = LMRequest((Message("user", "hi"),))


@pytest.fixture(autouse=True)
def _no_ambient_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests here decide every key and base URL themselves."""
    for service in SERVICES.values():
        for name in (*service.key_env, *service.env_base_urls):
            monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("name", "base_url", "wire"),
    [
        ("openai/gpt-4o-mini", "https://api.openai.com/v1", OpenAIChat),
        ("openrouter/openai/gpt-4o", "https://openrouter.ai/api/v1", OpenAIChat),
        ("mistral/mistral-small-latest", "https://api.mistral.ai/v1", OpenAIChat),
        ("groq/llama-3.3-70b-versatile", "https://api.groq.com/openai/v1", OpenAIChat),
        ("together/meta-llama/Llama-3-8b", "https://api.together.xyz/v1", OpenAIChat),
        ("deepseek/deepseek-chat", "https://api.deepseek.com/v1", OpenAIChat),
        ("vllm/qwen", "http://localhost:8000/v1", OpenAIChat),
        ("lmstudio/qwen", "http://localhost:1234/v1", OpenAIChat),
        ("llamacpp/gemma", "http://127.0.0.1:8080/v1", OpenAIChat),
        ("anthropic/claude-haiku-4-5", "https://api.anthropic.com", AnthropicMessages),
        (
            "gemini/gemini-2.5-flash",
            "https://generativelanguage.googleapis.com/v1beta",
            GeminiGenerateContent,
        ),
        ("cohere/command-a-03-2025", "https://api.cohere.com", CohereChat),
        ("ollama/qwen3:0.6b", "http://localhost:11434", OllamaChat),
    ],
)
def test_every_prefix_resolves(name: str, base_url: str, wire: type) -> None:
    lm = resolve_lm(name)
    prefix, _, model = name.partition("/")
    assert isinstance(lm, RemoteLM) and isinstance(lm.wire, wire)
    assert (lm.provider, lm.model, lm.name, lm.base_url) == (prefix, model, name, base_url)
    assert repr(lm) == f"<RemoteLM {name} at {base_url}>"


def test_all_catalog_prefixes_are_registered() -> None:
    assert set(SERVICES) <= set(known_providers())


def test_unknown_prefix_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_lm("nosuch/model")
    for prefix in SERVICES:
        assert prefix in str(info.value)


def test_missing_key_names_the_variable_before_any_request() -> None:
    lm = resolve_lm("anthropic/claude-haiku-4-5")  # creating it needs no key
    with pytest.raises(AuthenticationError) as info:
        lm.generate(REQUEST)
    assert (
        "no API key for anthropic: set the ANTHROPIC_API_KEY environment variable, or pass api_key="
        in str(info.value)
    )
    assert info.value.attempts == []
    with pytest.raises(AuthenticationError, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        resolve_lm("gemini/gemini-2.5-flash").generate(REQUEST)


def test_key_is_read_from_the_environment_at_call_time(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.default = respond(200, chat_body())
    lm = resolve_lm("groq/m", base_url=f"{server.url}/v1")
    lm.generate(REQUEST)  # a loopback server: no key needed, none sent
    monkeypatch.setenv("GROQ_API_KEY", "gsk-set-after-creation")
    lm.generate(REQUEST)
    assert "Authorization" not in server.received[0].headers
    assert server.received[1].headers["Authorization"] == "Bearer gsk-set-after-creation"


def test_local_servers_need_no_key(server: FaultServer) -> None:
    server.default = respond(200, chat_body("local"))
    for prefix in ("openai-compatible", "llamacpp", "vllm", "lmstudio"):
        lm = resolve_lm(f"{prefix}/m", base_url=f"{server.url}/v1")
        assert lm.generate(REQUEST).text == "local"
        assert lm.free
    assert all("Authorization" not in r.headers for r in server.received)


def test_openai_compatible_needs_a_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError, match="needs the server's URL: pass base_url=") as info:
        resolve_lm("openai-compatible/m")
    assert "OPENAI_COMPATIBLE_BASE_URL" in str(info.value)
    monkeypatch.setenv("OPENAI_COMPATIBLE_BASE_URL", "http://127.0.0.1:9999/v1")
    assert resolve_lm("openai-compatible/m").base_url == "http://127.0.0.1:9999/v1"


def test_base_url_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "https://proxy.example.com/v1/")
    monkeypatch.setenv("OLLAMA_HOST", "10.0.0.5:11434")
    assert resolve_lm("openai/gpt-4o").base_url == "https://proxy.example.com/v1"
    assert resolve_lm("ollama/llama3").base_url == "http://10.0.0.5:11434"
    assert resolve_lm("ollama/llama3", api="openai").base_url == "http://10.0.0.5:11434/v1"
    assert not resolve_lm("ollama/llama3").free


def test_openrouter_site_headers() -> None:
    lm = resolve_lm("openrouter/x/y", site_url="https://example.org", app_name="My App")
    headers = lm.provider_config.headers
    assert headers == {"HTTP-Referer": "https://example.org", "X-Title": "My App"}


def test_unknown_options_are_listed() -> None:
    with pytest.raises(ConfigError, match=r"unknown option\(s\) \['site_url'\]") as info:
        resolve_lm("openai/gpt-4o", site_url="x")
    assert "max_retries" in str(info.value) and "api_key" in str(info.value)
    with pytest.raises(ConfigError, match="ollama api='grpc'"):
        resolve_lm("ollama/x", api="grpc")


def test_settings_give_the_defaults_at_call_time() -> None:
    lm = resolve_lm("openai/gpt-4o")
    assert lm.timeout() == httpx.Timeout(600.0, connect=5.0)
    with context(timeout=12.0, max_retries=5):
        assert lm.timeout() == httpx.Timeout(12.0, connect=5.0)
        assert lm.call_state([], 0.0).max_retries == 5
    explicit = resolve_lm("openai/gpt-4o", timeout=3.0, max_retries=1, connect_timeout=1.0)
    with context(timeout=12.0, max_retries=5):
        assert explicit.timeout() == httpx.Timeout(3.0, connect=1.0)
        assert explicit.call_state([], 0.0).max_retries == 1


def test_own_http_clients_are_used_and_left_open() -> None:
    sync_client, async_client = httpx.Client(), httpx.AsyncClient()
    lm = resolve_lm("openai/gpt-4o", http_client=sync_client, async_http_client=async_client)
    assert lm._sync_client() is sync_client
    lm.close()
    assert not sync_client.is_closed
    only_async = resolve_lm("openai/gpt-4o", http_client=async_client)
    assert only_async._given_async_client is async_client
    sync_client.close()
