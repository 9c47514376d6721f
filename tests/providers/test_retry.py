"""The retry decisions, without I/O: statuses, server hints, backoff, quota, deadline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from lmbench.errors import ConfigError
from lmbench.providers.retry import (
    Decision,
    RetryPolicy,
    decide_status,
    decide_transport,
    is_quota_exhausted,
    parse_retry_after,
    retry_delay_in_body,
)

POLICY = RetryPolicy(max_retries=2)
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def _decide(
    status: int,
    headers: dict[str, str] | None = None,
    body: str = "",
    *,
    retries_done: int = 0,
    policy: RetryPolicy = POLICY,
    elapsed_s: float = 0.0,
) -> Decision:
    return decide_status(
        policy,
        status=status,
        headers=headers or {},
        body=body,
        retries_done=retries_done,
        max_retries=2,
        elapsed_s=elapsed_s,
        rng=lambda: 0.0,
    )


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503, 504, 529])
def test_retryable_statuses(status: int) -> None:
    decision = _decide(status)
    assert decision.retry and decision.retryable
    assert decision.wait_s == 0.5  # first backoff step, no jitter drawn


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_client_errors_are_final(status: int) -> None:
    decision = _decide(status)
    assert not decision.retry and not decision.retryable
    assert decision.reason == f"HTTP {status} is not retryable"


def test_x_should_retry_overrides_the_status() -> None:
    assert not _decide(500, {"x-should-retry": "false"}).retry
    assert not _decide(500, {"x-should-retry": "false"}).retryable
    forced = _decide(400, {"x-should-retry": "true"})
    assert forced.retry and "x-should-retry: true" in forced.reason


def test_backoff_doubles_to_the_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(initial_delay=0.5, max_delay=8.0, jitter=0.25)
    assert [policy.backoff(n, lambda: 0.0) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert [policy.backoff(n, lambda: 1.0) for n in range(1, 4)] == [0.375, 0.75, 1.5]
    for n in range(1, 8):
        assert (
            0.75 * min(0.5 * 2 ** (n - 1), 8.0) <= policy.backoff(n) <= min(0.5 * 2 ** (n - 1), 8.0)
        )


def test_retry_after_ms_wins_over_retry_after() -> None:
    decision = _decide(429, {"retry-after-ms": "1500", "retry-after": "9"})
    assert decision.wait_s == 1.5 and "retry-after-ms" in decision.reason


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    date = format_datetime(NOW + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after({"retry-after": date}, now=NOW) == 7.0
    past = format_datetime(NOW - timedelta(seconds=30), usegmt=True)
    assert parse_retry_after({"retry-after": past}, now=NOW) == 0.0
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after-ms": "x", "retry-after": "2"}) == 2.0
    assert parse_retry_after({}) is None


GEMINI_429 = """{
  "error": {
    "code": 429,
    "message": "You exceeded your current quota, please check your plan and billing details.",
    "status": "RESOURCE_EXHAUSTED",
    "details": [
      {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []},
      {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37s"}
    ]
  }
}"""


def test_a_retry_delay_in_the_body_is_the_wait_when_no_header_gives_one() -> None:
    assert retry_delay_in_body(GEMINI_429) == 37.0
    assert retry_delay_in_body('{"retryDelay": "0.25s"}') == 0.25
    assert retry_delay_in_body('{"error": {"message": "slow down"}}') is None
    decision = _decide(429, body=GEMINI_429)
    assert decision.retry and decision.wait_s == 37.0
    assert "waiting as the body's retryDelay asks" in decision.reason
    header_first = _decide(429, {"retry-after": "2"}, GEMINI_429)
    assert header_first.wait_s == 2.0 and "retry-after" in header_first.reason
    capped = _decide(429, body=GEMINI_429, policy=RetryPolicy(max_retry_after=5.0))
    assert capped.wait_s == 5.0 and "(capped)" in capped.reason


def test_long_retry_after_is_capped() -> None:
    decision = _decide(429, {"retry-after": "3600"})
    assert decision.retry and decision.wait_s == 60.0 and "(capped)" in decision.reason
    short_cap = _decide(503, {"retry-after": "30"}, policy=RetryPolicy(max_retry_after=2.0))
    assert short_cap.wait_s == 2.0


def test_no_retries_left() -> None:
    decision = _decide(503, retries_done=2)
    assert not decision.retry and decision.retryable
    assert "no retries left (max_retries=2)" in decision.reason


def test_deadline_stops_a_retry_that_would_outlast_it() -> None:
    policy = RetryPolicy(deadline=5.0)
    late = _decide(503, {"retry-after": "2"}, policy=policy, elapsed_s=4.0)
    assert not late.retry and late.retryable and "deadline of 5 s" in late.reason
    early = _decide(503, {"retry-after": "2"}, policy=policy, elapsed_s=1.0)
    assert early.retry and early.wait_s == 2.0


def test_exhausted_quota_is_not_retried() -> None:
    body = '{"error": {"message": "You exceeded your current quota, please check your plan and billing details.", "type": "insufficient_quota", "code": "insufficient_quota"}}'
    decision = _decide(429, {"retry-after": "1"}, body)
    assert not decision.retry and not decision.retryable
    assert "quota/credit exhausted" in decision.reason


def test_quota_words_with_a_retry_hint_are_a_rate_limit() -> None:
    per_minute = "You exceeded your current quota, please check your plan and billing details. Please retry in 39.8s."
    assert not is_quota_exhausted(per_minute, {})
    assert is_quota_exhausted(
        "You exceeded your current quota, please check your plan and billing details.", {}
    )
    assert not is_quota_exhausted("Rate limit reached for requests per min", {})
    assert _decide(429, body=per_minute).retry


def test_transport_failures_back_off() -> None:
    decision = decide_transport(
        POLICY,
        what="timeout (ReadTimeout)",
        retries_done=1,
        max_retries=2,
        elapsed_s=0.0,
        rng=lambda: 0.0,
    )
    assert (
        decision.retry
        and decision.wait_s == 1.0
        and decision.reason.startswith("timeout (ReadTimeout)")
    )


@pytest.mark.parametrize(
    "changes",
    [{"max_retries": -1}, {"initial_delay": -1}, {"jitter": 2}, {"deadline": 0}],
)
def test_bad_policies_are_refused(changes: dict[str, float]) -> None:
    with pytest.raises(ConfigError, match="RetryPolicy"):
        RetryPolicy(**changes)  # type: ignore[arg-type]
