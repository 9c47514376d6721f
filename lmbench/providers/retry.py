"""When to try a remote call again, and how long to wait first: pure decisions, no I/O.

The contract follows the official provider SDKs:

- retried: HTTP 408, 409, 429 and 500-599 (529 "overloaded" included), connection
  errors and timeouts;
- ``x-should-retry: true|false`` from the server overrides the status;
- a 429 whose body says the quota, credit or billing limit is exhausted (OpenAI's
  ``insufficient_quota``) is not retried: waiting will not help;
- the wait is ``retry-after-ms``, else ``retry-after`` (seconds or an HTTP date), else the
  ``retryDelay`` of a ``google.rpc.RetryInfo`` in the error body (Gemini's 429s), capped at
  ``max_retry_after``; otherwise exponential backoff from ``initial_delay`` doubling up to
  ``max_delay``, less up to ``jitter`` of itself at random;
- ``max_retries`` retries at most, and no retry whose wait would pass the ``deadline``.

The loops that act on these decisions live in ``lmbench.providers.transport``.
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime

from lmbench.errors import ConfigError

__all__ = [
    "DEFAULT_RETRY_STATUSES",
    "Decision",
    "RetryPolicy",
    "decide_status",
    "decide_transport",
    "is_quota_exhausted",
    "parse_retry_after",
    "retry_delay_in_body",
]

DEFAULT_RETRY_STATUSES = frozenset({408, 409, 429, *range(500, 600)})

# Always an exhausted quota, whatever else the response says.
_QUOTA_CODES = re.compile(r"insufficient_quota|billing_hard_limit", re.IGNORECASE)
# An exhausted quota unless the server also says when to come back.
_QUOTA_WORDS = re.compile(
    r"insufficient[ _]credits?|credit balance|out of credits|billing|quota (?:is |has been )?exhausted"
    r"|exceeded your current quota",
    re.IGNORECASE,
)
_RETRY_HINT_IN_BODY = re.compile(r"retryDelay|retry in \d|try again in \d", re.IGNORECASE)
# google.rpc.RetryInfo, as JSON: {"@type": ".../google.rpc.RetryInfo", "retryDelay": "37s"}.
_RETRY_DELAY = re.compile(r'"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"')


@dataclass(frozen=True)
class RetryPolicy:
    """How a remote call is retried. Every field can be changed; ``max_retries=None``
    means ``settings.current().max_retries`` (``LMBENCH_MAX_RETRIES``, default 2).

    ``deadline`` (seconds) bounds the whole call, retries and waits included.
    """

    max_retries: int | None = None
    initial_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    jitter: float = 0.25
    deadline: float | None = None
    retry_statuses: frozenset[int] = field(default=DEFAULT_RETRY_STATUSES)

    def __post_init__(self) -> None:
        if self.max_retries is not None and self.max_retries < 0:
            raise ConfigError(f"RetryPolicy(max_retries={self.max_retries}) must be 0 or more")
        for name in ("initial_delay", "max_delay", "max_retry_after"):
            if getattr(self, name) < 0:
                raise ConfigError(f"RetryPolicy({name}={getattr(self, name)}) must be >= 0 seconds")
        if not 0 <= self.jitter <= 1:
            raise ConfigError(f"RetryPolicy(jitter={self.jitter}) must be between 0 and 1")
        if self.deadline is not None and self.deadline <= 0:
            raise ConfigError(f"RetryPolicy(deadline={self.deadline}) must be > 0 seconds or None")

    def replace(self, **changes: object) -> RetryPolicy:
        return replace(self, **changes)  # type: ignore[arg-type]

    def backoff(self, retry: int, rng: Callable[[], float] = random.random) -> float:
        """The wait before retry number ``retry`` (1-based) when the server gave no hint."""
        base = min(self.initial_delay * 2 ** (retry - 1), self.max_delay)
        return base * (1.0 - self.jitter * rng())


@dataclass(frozen=True)
class Decision:
    """What to do after a failed attempt: ``retry`` after ``wait_s`` seconds, or stop.

    ``retryable`` says whether the failure is of a kind another attempt may cure, even when
    this loop stops (no retries left, deadline); it becomes ``ProviderError.retryable``.
    """

    retry: bool
    wait_s: float
    reason: str
    retryable: bool


def _seconds(text: str, scale: float = 1.0) -> float | None:
    """A wait given as a number (``scale`` to seconds), never negative (an endless one is
    capped later); None when it is not a number (``nan`` and text are no hint at all)."""
    try:
        value = float(text) * scale
    except ValueError:
        return None
    return None if math.isnan(value) else max(value, 0.0)


def parse_retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds the server asks us to wait, from ``retry-after-ms`` or ``retry-after``."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        seconds = _seconds(millis, 0.001)
        if seconds is not None:
            return seconds
    value = headers.get("retry-after")
    if value is None:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return seconds
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max((when - now).total_seconds(), 0.0)


def retry_delay_in_body(body: str) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` detail in an error body, if there is one."""
    match = _RETRY_DELAY.search(body)
    return float(match.group(1)) if match else None


def _server_hint(headers: Mapping[str, str], body: str) -> tuple[float | None, str]:
    """The wait the server asks for and where it said so: headers first, then the body."""
    seconds = parse_retry_after(headers)
    if seconds is not None:
        return seconds, "retry-after-ms" if "retry-after-ms" in headers else "retry-after"
    return retry_delay_in_body(body), "the body's retryDelay"


def is_quota_exhausted(body: str, headers: Mapping[str, str]) -> bool:
    """Whether a 429 means "out of quota/credit" (permanent) rather than "too fast"."""
    if _QUOTA_CODES.search(body):
        return True
    if not _QUOTA_WORDS.search(body):
        return False
    has_hint = parse_retry_after(headers) is not None or _RETRY_HINT_IN_BODY.search(body)
    return not has_hint


def _schedule(
    policy: RetryPolicy,
    *,
    retries_done: int,
    max_retries: int,
    elapsed_s: float,
    hint_s: float | None,
    why: str,
    hint_source: str,
    rng: Callable[[], float],
) -> Decision:
    """The retry verdict once the failure is known to be retryable."""
    if retries_done >= max_retries:
        return Decision(False, 0.0, f"{why}; no retries left (max_retries={max_retries})", True)
    if hint_s is not None:
        wait = min(hint_s, policy.max_retry_after)
        capped = " (capped)" if hint_s > policy.max_retry_after else ""
        how = f"waiting as {hint_source} asks{capped}"
    else:
        wait = policy.backoff(retries_done + 1, rng)
        how = "exponential backoff"
    if policy.deadline is not None and elapsed_s + wait > policy.deadline:
        reason = f"{why}; not retried: the deadline of {policy.deadline:g} s would pass"
        return Decision(False, 0.0, reason, True)
    return Decision(True, wait, f"{why}; retrying, {how}", True)


def decide_status(
    policy: RetryPolicy,
    *,
    status: int,
    headers: Mapping[str, str],
    body: str,
    retries_done: int,
    max_retries: int,
    elapsed_s: float,
    rng: Callable[[], float] = random.random,
) -> Decision:
    """Decide after an HTTP error response (``headers`` keyed in lower case)."""
    should_retry = headers.get("x-should-retry", "").strip().lower()
    if should_retry == "false":
        return Decision(False, 0.0, f"HTTP {status}; server sent x-should-retry: false", False)
    if status == 429 and should_retry != "true" and is_quota_exhausted(body, headers):
        reason = "HTTP 429 with quota/credit exhausted; waiting will not help"
        return Decision(False, 0.0, reason, False)
    if should_retry == "true":
        why = f"HTTP {status}; server sent x-should-retry: true"
    elif status in policy.retry_statuses:
        why = f"HTTP {status} is retryable"
    else:
        return Decision(False, 0.0, f"HTTP {status} is not retryable", False)
    hint_s, hint_source = _server_hint(headers, body)
    return _schedule(
        policy,
        retries_done=retries_done,
        max_retries=max_retries,
        elapsed_s=elapsed_s,
        hint_s=hint_s,
        why=why,
        hint_source=hint_source,
        rng=rng,
    )


def decide_transport(
    policy: RetryPolicy,
    *,
    what: str,
    retries_done: int,
    max_retries: int,
    elapsed_s: float,
    rng: Callable[[], float] = random.random,
) -> Decision:
    """Decide after a connection error or timeout, described by ``what``."""
    return _schedule(
        policy,
        retries_done=retries_done,
        max_retries=max_retries,
        elapsed_s=elapsed_s,
        hint_s=None,
        why=what,
        hint_source="",
        rng=rng,
    )
