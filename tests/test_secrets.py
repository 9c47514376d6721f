"""The redaction set (``lmbench.secrets``): keys in URLs, keys split across stream pieces,
keys set in the environment after start-up, exception chains and log records."""

from __future__ import annotations

import base64
import logging

import pytest

from lmbench.secrets import (
    REDACTED,
    Secret,
    StreamScrubber,
    holds_secret,
    redact_exception,
    redact_text,
    redacting_filter,
    register_url_secrets,
    url_secrets,
    without_url_secrets,
)

KEY = "Zunit7Hq2Lm9Xc4Vb6Nn1Kp"


def test_url_credentials_are_found_and_taken_out() -> None:
    url = f"https://me:{KEY}@api.example.com:8443/v1beta?key=Zq8Wm3Ty6Ui9Op2&alt=sse"
    found = url_secrets(url)
    assert KEY in found and "Zq8Wm3Ty6Ui9Op2" in found
    assert base64.b64encode(f"me:{KEY}".encode()).decode() in found  # as Basic auth sends it
    assert without_url_secrets(url) == "https://api.example.com:8443/v1beta?alt=sse"
    assert url_secrets("http://127.0.0.1:8080/v1") == []
    assert without_url_secrets("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"


def test_a_registered_url_key_is_redacted_by_value() -> None:
    register_url_secrets(f"http://u:{KEY}@h/v1")
    assert redact_text(f"echo {KEY}!") == f"echo {REDACTED}!"
    assert holds_secret(f"..{KEY}..".encode()) and not holds_secret(b"nothing here")


def test_keys_set_in_the_environment_later_count(monkeypatch: pytest.MonkeyPatch) -> None:
    later = "Zlater5Rt8Yu1Io4Pa7Sd"
    assert redact_text(later) == later
    monkeypatch.setenv("SOME_SERVICE_API_KEY", later)
    assert redact_text(f"k={later}") == f"k={REDACTED}"
    monkeypatch.setenv("HTTPS_PROXY", "http://user:Zproxy3Gh6Jk9Lz2@proxy:3128")
    assert redact_text("pw Zproxy3Gh6Jk9Lz2") == f"pw {REDACTED}"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 11, 40])
def test_a_key_split_across_stream_pieces_never_passes(size: int) -> None:
    Secret(KEY)
    text = f"the answer echoes {KEY} and goes on, ending in Z"
    scrubber = StreamScrubber()
    pieces = [scrubber.feed(text[i : i + size]) for i in range(0, len(text), size)]
    shown = "".join(pieces) + scrubber.flush()
    before, _, after = shown.partition(REDACTED)
    assert after == " and goes on, ending in Z"  # the rest passes once the key is out
    assert before in [f"the answer echoes {KEY[:n]}" for n in range(4)]  # at most 3 characters
    for start in range(len(KEY) - 3):  # no piece of 4 characters of the key, anywhere
        assert KEY[start : start + 4] not in shown


def test_text_without_keys_streams_through_unchanged() -> None:
    Secret(KEY)
    scrubber = StreamScrubber()
    pieces = ["The", " capital", " is", " Paris", ".", " Z"]
    assert [scrubber.feed(p) for p in pieces] == pieces  # a key's first letter passes at once
    assert scrubber.flush() == ""


def test_a_stream_cut_inside_a_key_shows_no_recognizable_piece() -> None:
    Secret(KEY)
    scrubber = StreamScrubber()
    shown = scrubber.feed("text " + KEY[:12]) + scrubber.flush()
    assert KEY[:8] not in shown and shown.startswith("text ")


def test_an_exception_chain_is_cleaned_in_place() -> None:
    Secret(KEY)
    cause = OSError(f"proxy said {KEY}")
    cause.add_note(f"note with {KEY}")
    error = RuntimeError("outer")
    error.__cause__ = cause
    assert redact_exception(error) is error
    assert str(cause) == f"proxy said {REDACTED}" and cause.__notes__ == [f"note with {REDACTED}"]


def test_log_records_lose_keys_in_message_args_and_exception_text() -> None:
    Secret(KEY)
    try:
        raise ValueError(f"bad {KEY}")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "key %s", (KEY,), None)
        import sys

        record.exc_info = sys.exc_info()
    assert redacting_filter.filter(record)
    text = logging.Formatter().format(record)
    assert KEY not in text and f"key {REDACTED}" in text and f"bad {REDACTED}" in text


def test_a_provider_keeps_a_url_key_apart_and_forgets_it_for_another_url() -> None:
    from dataclasses import replace

    from lmbench.providers.provider import Provider

    keyed = Provider("gemini", f"https://g.example/v1beta?key={KEY}")
    assert keyed.base_url == "https://g.example/v1beta" and KEY not in repr(keyed)
    assert keyed.request_url() == f"https://g.example/v1beta?key={KEY}"
    assert replace(keyed, name="other").request_url() == keyed.request_url()
    moved = replace(keyed, base_url="https://elsewhere.example/v1")
    assert moved.request_url() == "https://elsewhere.example/v1"
