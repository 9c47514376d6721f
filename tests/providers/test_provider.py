"""Provider: key precedence, loopback servers without keys, auth header shapes."""

from __future__ import annotations

import pytest

from lmbench.errors import AuthenticationError
from lmbench.providers.provider import Provider, is_loopback
from lmbench.secrets import Secret


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080/v1", True),
        ("http://localhost:11434", True),
        ("http://[::1]:8000", True),
        ("https://api.openai.com/v1", False),
        ("http://10.0.0.5:8000", False),
    ],
)
def test_is_loopback(url: str, local: bool) -> None:
    assert is_loopback(url) is local


def test_explicit_key_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIRST_KEY", "from-first-variable")
    monkeypatch.setenv("SECOND_KEY", "from-second-variable")
    provider = Provider("p", "https://api.example.com", key_env=("FIRST_KEY", "SECOND_KEY"))
    assert provider.auth_headers() == {"Authorization": "Bearer from-first-variable"}
    monkeypatch.delenv("FIRST_KEY")
    assert provider.auth_headers() == {"Authorization": "Bearer from-second-variable"}
    explicit = Provider(
        "p",
        "https://api.example.com",
        api_key=Secret("explicit-key-value"),
        key_env=("SECOND_KEY",),
    )
    assert explicit.auth_headers() == {"Authorization": "Bearer explicit-key-value"}
    assert "api_key= given was rejected" in explicit.key_hint


def test_raw_key_headers() -> None:
    provider = Provider(
        "p",
        "https://x.example.com/",
        api_key=Secret("raw-key-value"),
        auth_header="x-api-key",
        auth_scheme="",
    )
    assert provider.auth_headers() == {"x-api-key": "raw-key-value"}
    assert provider.base_url == "https://x.example.com"


def test_required_key_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOT_SET_KEY", raising=False)
    with pytest.raises(AuthenticationError, match="set the NOT_SET_KEY environment variable"):
        Provider("p", "https://api.example.com", key_env=("NOT_SET_KEY",)).auth_headers()
    assert Provider("p", "http://127.0.0.1:9/v1", key_env=("NOT_SET_KEY",)).auth_headers() == {}
    assert Provider("p", "https://api.example.com", key_required=False).auth_headers() == {}
