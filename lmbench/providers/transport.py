"""The one retry loop every remote provider sends through (a sync and an async twin that
share every decision; see ``lmbench.providers.retry`` for the contract).

``send(client, request, call)`` returns the first successful response, its body read, or
(``stream=True``) open for the caller to iterate; a stream is never retried once the caller
has it. Every attempt is recorded as an ``Attempt`` in ``call.attempts``, and the error
raised when the loop gives up carries the same list.

Three rules keep a request from being paid for twice or failing for nothing:

- a success (2xx) whose body then breaks (cut off, timed out, undecodable) is never sent
  again: the server has answered, and billed, it; the error says so;
- a connection the server closed without answering (a kept-alive connection it had just
  dropped) is resent at once, once per call, without waiting and without counting as a retry;
- a redirect (3xx) is an error naming where it points, never followed or parsed as an answer.

With a retry budget in force (``call.budget``, see ``lmbench.providers.retry_budget``), each
retryable failure spends from the provider's budget and each success refills it; a drained
budget stops the retries (and the resending of dropped connections).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from lmbench.errors import ProviderError
from lmbench.lm.types import Attempt
from lmbench.logs import get_logger
from lmbench.providers.http_errors import (
    error_for_status,
    error_for_transport,
    transport_failure,
)
from lmbench.providers.retry import Decision, RetryPolicy, decide_status, decide_transport
from lmbench.providers.retry_budget import RetryBucket
from lmbench.secrets import redact_http_logs

__all__ = ["BrokenBody", "CallState", "asend", "send"]

logger = get_logger("lmbench.providers")
redact_http_logs()

_RETRYABLE_TRANSPORT = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    httpx.ProxyError,
)
# How a server drops a kept-alive connection it has just timed out, as seen by the client:
# closed or reset before any byte of the response (never a refused connection or a timeout).
_DROPPED_CONNECTION = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
_RESENT = (
    "the server closed the connection without answering (a kept-alive connection it had "
    "dropped); resent at once on a new connection, not counted as a retry"
)


@dataclass(frozen=True, slots=True)
class BrokenBody:
    """A success whose body failed to arrive whole (cut off, timed out, undecodable): the
    server answered the request, so it is not sent again."""

    response: httpx.Response
    error: httpx.RequestError


@dataclass
class CallState:
    """One request across its attempts: the policy in force and what happened so far.

    ``attempts`` may start with earlier requests' attempts of the same call (e.g. a
    structured-output mode the server rejected); they are kept and numbered on, but do not
    count against ``max_retries``. ``rejects_request(status, body)``, when given, marks
    error responses that refuse the request itself (retrying it unchanged cannot help, even
    on a 5xx), so the caller can change the request at once.
    """

    provider: str
    model: str
    policy: RetryPolicy
    max_retries: int
    timeout: httpx.Timeout
    key_hint: str
    clock: Callable[[], float] = time.monotonic
    attempts: list[Attempt] = field(default_factory=list)
    #: When the whole call began (``clock()`` time); the deadline counts from here.
    started_at: float | None = None
    rejects_request: Callable[[int, str], bool] | None = None
    budget: RetryBucket | None = None
    #: The last attempt's httpx timeouts, and whether the deadline shortened them.
    limits: dict[str, float | None] = field(init=False, default_factory=dict)
    cut_by_deadline: bool = field(init=False, default=False)
    _started: float = field(init=False)
    _first: int = field(init=False)
    _resent: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self._started = self.clock() if self.started_at is None else self.started_at
        self._first = len(self.attempts)

    @property
    def retries_done(self) -> int:
        return len(self.attempts) - self._first - self._resent

    @property
    def elapsed_s(self) -> float:
        return self.clock() - self._started

    def attempt_timeout(self) -> dict[str, float | None]:
        """This attempt's httpx timeouts, shortened so that none outlasts the deadline."""
        limits = self.timeout.as_dict()
        deadline = self.policy.deadline
        if deadline is not None:
            remaining = max(deadline - self.elapsed_s, 0.001)
            shortened = {
                k: remaining if v is None else min(v, remaining) for k, v in limits.items()
            }
            self.cut_by_deadline = shortened != limits
            limits = shortened
        self.limits = limits
        return limits

    def _record(self, *, status: int | None, error: str, decision: Decision) -> Decision:
        """Keep the attempt, spending from the retry budget; the decision, which a drained
        budget turns into "stop"."""
        tokens: float | None = None
        if self.budget is not None and decision.retryable:
            tokens, may_retry = self.budget.failed()
            if decision.retry and not may_retry:
                decision = Decision(
                    False, 0.0, f"{error}; {self.budget.drained_reason(tokens)}", True
                )
        number = len(self.attempts) + 1
        self.attempts.append(
            Attempt(number, status, error, decision.wait_s, decision.reason, tokens)
        )
        log = logger.info if decision.retry else logger.debug
        log("%s %s attempt %d: %s", self.provider, self.model, number, decision.reason)
        return decision

    def after_attempt(
        self, outcome: httpx.Response | httpx.RequestError | BrokenBody
    ) -> httpx.Response | float:
        """Record one attempt: the response to return when it succeeded, else the wait before
        the next attempt; raises the mapped error when giving up."""
        if isinstance(outcome, httpx.RequestError):
            return self.after_transport_error(outcome)
        if isinstance(outcome, BrokenBody):
            raise self.after_broken_body(outcome)
        if _is_error(outcome):
            return self.after_error_response(outcome)
        return self.succeeded(outcome)

    def succeeded(self, response: httpx.Response) -> httpx.Response:
        number = len(self.attempts) + 1
        tokens = self.budget.succeeded() if self.budget is not None else None
        self.attempts.append(Attempt(number, response.status_code, None, 0.0, "ok", tokens))
        logger.debug(
            "%s %s attempt %d: HTTP %d", self.provider, self.model, number, response.status_code
        )
        return response

    def after_error_response(self, response: httpx.Response) -> float:
        """The wait before the next attempt; raises the mapped error when giving up."""
        status, body = response.status_code, response.text
        if self.rejects_request is not None and self.rejects_request(status, body):
            decision = Decision(
                False, 0.0, f"HTTP {status}: the server refuses this request", False
            )
        else:
            decision = decide_status(
                self.policy,
                status=status,
                headers={k.lower(): v for k, v in response.headers.items()},
                body=body,
                retries_done=self.retries_done,
                max_retries=self.max_retries,
                elapsed_s=self.elapsed_s,
            )
        decision = self._record(status=status, error=f"HTTP {status}", decision=decision)
        if decision.retry:
            return decision.wait_s
        raise error_for_status(
            provider=self.provider,
            model=self.model,
            response=response,
            retryable=decision.retryable,
            key_hint=self.key_hint,
            attempts=self.attempts,
            note=self._note(decision),
        )

    def after_broken_body(self, broken: BrokenBody) -> ProviderError:
        """The error for a success whose body broke; recorded, never retried."""
        status = broken.response.status_code
        what = transport_failure(broken.error, self.limits)
        why = (
            f"not sent again after HTTP {status}: the server has answered (and may have "
            "billed) this request; call again to pay for a new answer"
        )
        number = len(self.attempts) + 1
        self.attempts.append(Attempt(number, status, what, 0.0, f"{what}; {why}", None))
        logger.debug("%s %s attempt %d: %s; %s", self.provider, self.model, number, what, why)
        return error_for_transport(
            provider=self.provider,
            exc=broken.error,
            retryable=False,
            attempts=self.attempts,
            note=why,
            status=status,
            limits=self.limits,
            deadline=self.policy.deadline if self.cut_by_deadline else None,
        )

    def _may_resend(self) -> bool:
        """Whether a dropped connection may be resent at once: once a call, and not to a
        provider whose retry budget is drained (it is failing, not timing out idle sockets)."""
        return not self._resent and (self.budget is None or self.budget.allows_retries())

    def after_transport_error(self, exc: httpx.RequestError) -> float:
        """The wait before the next attempt; raises the mapped error when giving up."""
        what = transport_failure(exc, self.limits)
        if isinstance(exc, _DROPPED_CONNECTION) and self._may_resend():
            self._resent = 1
            number = len(self.attempts) + 1
            self.attempts.append(Attempt(number, None, what, 0.0, f"{what}; {_RESENT}", None))
            logger.debug("%s %s attempt %d: %s", self.provider, self.model, number, _RESENT)
            return 0.0
        retryable = isinstance(exc, _RETRYABLE_TRANSPORT)
        if retryable:
            decision = decide_transport(
                self.policy,
                what=what,
                retries_done=self.retries_done,
                max_retries=self.max_retries,
                elapsed_s=self.elapsed_s,
            )
        else:
            decision = Decision(False, 0.0, f"{what}; not retryable", False)
        decision = self._record(status=None, error=what, decision=decision)
        if decision.retry:
            return decision.wait_s
        raise error_for_transport(
            provider=self.provider,
            exc=exc,
            retryable=retryable,
            attempts=self.attempts,
            note=self._note(decision),
            limits=self.limits,
            deadline=self.policy.deadline if self.cut_by_deadline else None,
        )

    def _note(self, decision: Decision) -> str:
        """Why the loop stopped, when that is more than "the error is final"."""
        count = len(self.attempts) - self._first
        if count == 1 and not decision.retryable:
            return ""
        return f"gave up after {count} attempt{'s' if count != 1 else ''}: {decision.reason}"


def _is_error(response: httpx.Response) -> bool:
    """Anything but a success: errors, and redirects (never followed; see the module doc)."""
    return response.status_code >= 300


def _without_body(response: httpx.Response, exc: httpx.RequestError) -> httpx.Response:
    """An error response whose body could not be read, with a note in its place: the status
    and headers still decide what happens next."""
    headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() != "content-encoding"]
    note = f"(the error body could not be read: {transport_failure(exc)})"
    return httpx.Response(
        response.status_code, headers=headers, content=note.encode(), request=response.request
    )


def _read_failed(response: httpx.Response, exc: httpx.RequestError) -> httpx.Response | BrokenBody:
    """The outcome of an attempt whose body broke while it was read."""
    if not _is_error(response):
        return BrokenBody(response, exc)
    return _without_body(response, exc)  # the status still says whether to retry


def _attempt(
    client: httpx.Client, request: httpx.Request, stream: bool
) -> httpx.Response | httpx.RequestError | BrokenBody:
    """One try: the response (its body read, unless it is a success to hand over as a
    stream), the error that ended it before an answer, or the success whose body broke."""
    try:
        response = client.send(request, stream=True)
    except httpx.RequestError as exc:
        return exc
    if stream and not _is_error(response):
        return response
    try:
        response.read()
    except httpx.RequestError as exc:
        return _read_failed(response, exc)
    finally:
        response.close()  # a no-op once the body was read whole
    return response


async def _aattempt(
    client: httpx.AsyncClient, request: httpx.Request, stream: bool
) -> httpx.Response | httpx.RequestError | BrokenBody:
    """The async twin of ``_attempt``."""
    try:
        response = await client.send(request, stream=True)
    except httpx.RequestError as exc:
        return exc
    if stream and not _is_error(response):
        return response
    try:
        await response.aread()
    except httpx.RequestError as exc:
        return _read_failed(response, exc)
    finally:
        await response.aclose()
    return response


def send(
    client: httpx.Client, request: httpx.Request, call: CallState, *, stream: bool = False
) -> httpx.Response:
    """Send ``request`` until it succeeds or the policy gives up (then raise)."""
    while True:
        request.extensions["timeout"] = call.attempt_timeout()
        outcome = call.after_attempt(_attempt(client, request, stream))
        if isinstance(outcome, httpx.Response):
            return outcome
        time.sleep(outcome)


async def asend(
    client: httpx.AsyncClient, request: httpx.Request, call: CallState, *, stream: bool = False
) -> httpx.Response:
    """The async twin of ``send``."""
    while True:
        request.extensions["timeout"] = call.attempt_timeout()
        outcome = call.after_attempt(await _aattempt(client, request, stream))
        if isinstance(outcome, httpx.Response):
            return outcome
        await asyncio.sleep(outcome)
