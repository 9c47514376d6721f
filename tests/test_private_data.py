"""Opt-in redaction of private data: the patterns, their configuration and their errors."""

from __future__ import annotations

import re

import pytest

import lmbench
from lmbench.errors import ConfigError
from lmbench.private_data import compile_patterns, redact_private

EMAIL, PHONE, ACCOUNT = "jane.doe@example.org", "+1 (555) 123-4567", "ACCT-123456"
PRIVATE = (EMAIL, PHONE, ACCOUNT)
ON = ["email", "phone", r"ACCT-\d{6}"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to jane.doe+news@mail.example.co.uk now", "write to [email] now"),
        ("call +44 20 7946 0958 or 555-123-4567", "call [phone] or [phone]"),
        ("(020) 7946 0958, +15551234567", "[phone], [phone]"),
        ("on 2024-01-15 order 5551234567 v1.2.3 pi 3.14159", None),  # left alone
        ("account ACCT-123456 and ACCT-12", "account [redacted] and ACCT-12"),
    ],
)
def test_the_patterns(text: str, expected: str | None) -> None:
    with lmbench.context(redact=ON):
        assert redact_private(text) == (text if expected is None else expected)
    assert redact_private(text) == text  # off by default


def test_nested_values_and_compiled_patterns() -> None:
    with lmbench.context(redact=[re.compile("secret-\\w+")]):
        assert redact_private({"a": ["x secret-1", ("secret-2",)], "n": 3}) == {
            "a": ["x [redacted]", ("[redacted]",)],
            "n": 3,
        }


@pytest.mark.parametrize("bad", [["email", "(unclosed"], "email", [3]])
def test_a_bad_pattern_is_refused_naming_it(bad: object) -> None:
    with pytest.raises(ConfigError, match="redact"):
        lmbench.configure(redact=bad)


def test_the_environment_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from lmbench import settings

    monkeypatch.setenv("LMBENCH_REDACT", "email, phone")
    settings._global = None
    assert settings.current().redact == ("email", "phone")
    assert redact_private(f"mail {EMAIL}") == "mail [email]"
    monkeypatch.setenv("LMBENCH_REDACT", "email,(bad")
    settings._global = None
    with pytest.raises(ConfigError, match="LMBENCH_REDACT"):
        settings.current()
    assert compile_patterns(()) == ()
