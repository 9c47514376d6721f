"""Keys never leave ``Secret``: not in reprs, logs, errors, attempts or raw exchanges."""

from __future__ import annotations

import copy
import json
import logging
import pickle

import pytest
from provider_faults import FaultServer, chat_body, chat_events, respond, sse

from lmbench.errors import AuthenticationError, ConfigError
from lmbench.lm.registry import resolve_lm
from lmbench.lm.types import LMRequest, Message
from lmbench.providers.retry import RetryPolicy
from lmbench.secrets import REDACTED, Secret, is_secret_name, redact, redact_headers
from lmbench.settings import context

SENTINEL = "sk-SENTINEL-0123456789abcdefghijklmnop"
FAST = RetryPolicy(initial_delay=0.001, jitter=0.0)
REQUEST = LMRequest((Message("user", "hi"),))


def _echo_key(status: int):  # type: ignore[no-untyped-def]
    """A server step that answers with an error body quoting the auth header it received."""

    def step(handler):  # type: ignore[no-untyped-def]
        key = handler.headers.get("authorization", "")
        respond(status, {"error": {"message": f"rejected key {key}"}}, {"x-echo": key})(handler)

    return step


def test_secret_never_shows_its_value() -> None:
    secret = Secret(SENTINEL, source="OPENAI_API_KEY")
    assert (
        SENTINEL not in repr(secret) and SENTINEL not in str(secret) and SENTINEL not in f"{secret}"
    )
    assert repr(secret) == "Secret(from OPENAI_API_KEY)" and str(secret) == REDACTED
    assert SENTINEL not in json.dumps({"key": secret}, default=str)
    with pytest.raises(TypeError):
        json.dumps(secret)
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(secret)
    assert copy.deepcopy(secret) is secret
    assert secret.reveal() == SENTINEL
    assert secret == Secret(SENTINEL) and secret != Secret("another-secret-value")


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="non-empty string"):
        Secret("  ")


def test_redact_replaces_known_values_everywhere() -> None:
    Secret(SENTINEL)
    data = {
        "text": f"the key is {SENTINEL}!",
        "nested": [("a", SENTINEL.encode()), {"Authorization": "Bearer anything"}],
        "api_key": "whatever-it-is",
        "count": 3,
    }
    cleaned = redact(data)
    assert SENTINEL not in repr(cleaned)
    assert cleaned["text"] == f"the key is {REDACTED}!"
    assert cleaned["nested"][0] == ("a", REDACTED.encode())
    assert cleaned["nested"][1] == {"Authorization": REDACTED}
    assert cleaned["api_key"] == REDACTED and cleaned["count"] == 3


def test_redact_covers_credential_env_vars_and_key_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOME_SERVICE_TOKEN", "tok-value-never-registered")
    assert redact("x tok-value-never-registered y") == f"x {REDACTED} y"
    assert redact("AIza" + "A" * 35) == REDACTED
    assert redact("sk-ant-api03-" + "b" * 30) == REDACTED
    assert redact("a sk- prefix alone, and desk-lamp") == "a sk- prefix alone, and desk-lamp"


def test_redact_headers() -> None:
    Secret(SENTINEL)
    headers = [
        ("Authorization", f"Bearer {SENTINEL}"),
        ("x-api-key", "k"),
        ("x-echo", SENTINEL),
        ("accept", "*/*"),
    ]
    assert redact_headers(headers) == {
        "Authorization": REDACTED,
        "x-api-key": REDACTED,
        "x-echo": REDACTED,
        "accept": "*/*",
    }
    assert is_secret_name("X-Goog-Api-Key") and not is_secret_name("content-type")


def test_sentinel_key_through_success_error_retry_and_stream(
    server: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.script(
        _echo_key(500),
        respond(200, chat_body("fine")),
        _echo_key(401),
        _echo_key(503),
        sse(chat_events("str", "eam")),
    )
    lm = resolve_lm(
        "openai-compatible/m", base_url=f"{server.url}/v1", api_key=SENTINEL, retry=FAST
    )
    seen: list[str] = [repr(lm), repr(vars(lm)), repr(lm.provider_config)]
    with context(save_raw=True):
        response = lm.generate(REQUEST)
        assert response.text == "fine" and response.raw is not None
        assert response.raw["request"]["headers"]["authorization"] == REDACTED
        seen += [repr(response), json.dumps(response.to_dict(include_raw=True))]

        with pytest.raises(AuthenticationError) as info:
            lm.generate(REQUEST)
        error = info.value
        assert "rejected key Bearer [redacted]" in error.message
        seen += [
            str(error),
            repr(error),
            error.message,
            error.body or "",
            repr(error.attempts),
            repr(vars(error)),
        ]

        chunks = list(lm.stream(REQUEST))
        final = chunks[-1].response
        assert final is not None and final.text == "stream" and len(final.attempts) == 2
        seen += [repr(chunks), json.dumps(final.to_dict(include_raw=True))]

    assert server.received[0].headers["Authorization"] == f"Bearer {SENTINEL}"  # it was sent...
    seen += [r.getMessage() for r in caplog.records] + [repr(r.args) for r in caplog.records]
    for text in seen:  # ... and is nowhere else
        assert SENTINEL not in text


def test_key_from_the_environment_stays_hidden(
    server: FaultServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_COMPATIBLE_API_KEY", SENTINEL)
    server.script(_echo_key(403))
    lm = resolve_lm("openai-compatible/m", base_url=f"{server.url}/v1")
    with pytest.raises(AuthenticationError) as info:
        lm.generate(REQUEST)
    assert "set the OPENAI_COMPATIBLE_API_KEY environment variable" in info.value.message
    assert SENTINEL not in str(info.value) and SENTINEL not in (info.value.body or "")
    assert server.received[0].headers["Authorization"] == f"Bearer {SENTINEL}"
