"""A process-wide retry budget per provider endpoint, in the manner of gRPC retry throttling.

Each endpoint (provider name and base URL) has a bucket of ``max_tokens`` tokens, full at
first. Every failed attempt of a kind that would be retried (429, 5xx, a connection error or
timeout) takes one token; every successful response gives back ``token_ratio``. While the
bucket holds half of ``max_tokens`` or less, nothing is retried: calls fail at their first
error, until enough calls succeed again. A failing provider under ``Parallel(64)`` then gets
about one request per call instead of three, while an occasional failure among successes is
retried as usual. With the default ratio of 1, retries stop once failures outnumber
successes by ``max_tokens / 2``.

The budget in force is ``settings.current().retry_budget`` (``LMBENCH_RETRY_BUDGET``:
``off``, ``TOKENS`` or ``TOKENS:RATIO``, default ``10:1``); each attempt records the tokens
left after it (``Attempt.retry_budget``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from lmbench.errors import ConfigError
from lmbench.forked import renew_after_fork

__all__ = [
    "RetryBucket",
    "RetryBudget",
    "parse_retry_budget",
    "reset_retry_budgets",
    "retry_bucket",
]


@dataclass(frozen=True)
class RetryBudget:
    """How much retrying a failing provider gets: see the module docstring."""

    max_tokens: float = 10.0
    token_ratio: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.max_tokens <= 1000:
            raise ConfigError(
                f"RetryBudget(max_tokens={self.max_tokens}) must be above 0 and at most 1000"
            )
        if not 0 < self.token_ratio <= self.max_tokens:
            raise ConfigError(
                f"RetryBudget(token_ratio={self.token_ratio}) must be above 0 (the tokens a "
                "success gives back, e.g. 0.1 as gRPC suggests, or 1)"
            )


def parse_retry_budget(text: str, *, source: str = "LMBENCH_RETRY_BUDGET") -> RetryBudget | None:
    """``off`` (None), ``TOKENS`` or ``TOKENS:RATIO`` as a ``RetryBudget``."""
    value = text.strip().lower()
    if value in ("off", "none", "0", "false", "no"):
        return None
    tokens, _, ratio = value.partition(":")
    try:
        return RetryBudget(float(tokens), float(ratio) if ratio else RetryBudget.token_ratio)
    except ValueError:
        raise ConfigError(
            f"{source}={text!r} is not a retry budget: use off, TOKENS or TOKENS:RATIO "
            "(e.g. 10:1 or 20:0.1)"
        ) from None


class RetryBucket:
    """The tokens of one endpoint; safe to share between threads."""

    __slots__ = ("__weakref__", "_lock", "budget", "name", "tokens")

    def __init__(self, name: str, budget: RetryBudget) -> None:
        self.name = name
        self.budget = budget
        self.tokens = budget.max_tokens
        self._lock = threading.Lock()
        renew_after_fork(self)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()  # never one another thread held at the fork

    def failed(self) -> tuple[float, bool]:
        """Take a token for a retryable failure: the tokens left, and whether a retry may go."""
        with self._lock:
            self.tokens = max(self.tokens - 1.0, 0.0)
            return self.tokens, self.tokens > self.budget.max_tokens / 2

    def allows_retries(self) -> bool:
        """Whether the bucket is above half (retries may go), without spending from it."""
        return self.tokens > self.budget.max_tokens / 2

    def succeeded(self) -> float:
        """Give back ``token_ratio`` for a success; the tokens now."""
        with self._lock:
            self.tokens = min(self.tokens + self.budget.token_ratio, self.budget.max_tokens)
            return self.tokens

    def drained_reason(self, tokens: float) -> str:
        return (
            f"not retried: the retry budget of {self.name} is drained ({tokens:g} of "
            f"{self.budget.max_tokens:g} tokens; retries resume once calls succeed again)"
        )

    def __repr__(self) -> str:
        return f"<RetryBucket {self.name} {self.tokens:g}/{self.budget.max_tokens:g}>"


_buckets: dict[tuple[str, str, RetryBudget], RetryBucket] = {}
_lock = threading.Lock()


def retry_bucket(provider: str, base_url: str, budget: RetryBudget | None) -> RetryBucket | None:
    """The process's bucket for this endpoint under ``budget`` (None: no budget)."""
    if budget is None:
        return None
    key = (provider, base_url, budget)
    bucket = _buckets.get(key)
    if bucket is None:
        with _lock:
            bucket = _buckets.setdefault(key, RetryBucket(f"{provider} at {base_url}", budget))
    return bucket


def reset_retry_budgets() -> None:
    """Forget every bucket (all full again): for tests and long-lived services after an outage."""
    with _lock:
        _buckets.clear()
