"""``budget(usd=..., tokens=...)``: a spending limit over the LM calls made inside a block.

Budgets nest (every enclosing budget counts every call) and follow ``contextvars``: asyncio
tasks started inside the block, and threads run in a copy of its context
(``contextvars.copy_context().run``), count against it too.

Before a call is sent it *reserves* the most it can cost: its prompt's estimated size and
``max_tokens`` of output, priced (for a dollar limit with no ``max_tokens``: the rest of the
model's context window). A call whose reservation would take what is spent plus what calls in
flight hold past a limit is refused with ``BudgetExceeded`` and not sent. When the response
comes, the reservation is settled to the real cost. So however many threads or tasks call at
once, spending passes a limit by at most the estimate's error, not by the number of callers.
When no bound is known (a token limit and no ``max_tokens``, an unknown context window, an
unpriced model), the reservation is a lower bound: the call runs and ``BudgetExceeded`` is raised right after
the call that crossed the limit.
Either way what was done before stays done and recorded in history. Cache hits are free;
replayed calls (``lmbench.replay``) count as the recorded calls did.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field

from lmbench.errors import BudgetExceeded, ConfigError
from lmbench.logs import warn
from lmbench.money import format_usd

__all__ = [
    "Budget",
    "Reservation",
    "active_budgets",
    "budget",
    "limited_by",
    "reserve",
    "session_budget",
    "set_session_budget",
]


@dataclass(eq=False)
class Budget:
    """Limits, what was spent so far, and what calls in flight hold. ``None``: no limit of that
    kind."""

    usd: float | None = None
    tokens: int | None = None
    spent_usd: float = 0.0
    spent_tokens: int = 0
    calls: int = 0
    unpriced_calls: int = 0
    reserved_usd: float = 0.0
    reserved_tokens: int = 0
    #: Calls holding a reservation now; when none does, nothing is reserved (exactly 0, free
    #: of the rounding left by adding and taking back floats).
    in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reserve(self, *, tokens: int, usd: float | None, model: str) -> None:
        """Hold ``tokens``/``usd`` for a call about to be sent, or refuse it if what is spent,
        what calls in flight hold and this would cross a limit."""
        with self._lock:
            held_tokens = self.spent_tokens + self.reserved_tokens
            if self.tokens is not None and held_tokens + tokens > self.tokens:
                raise self._refused("tokens", tokens, model)
            held_usd = self.spent_usd + self.reserved_usd
            if self.usd is not None and usd is not None and held_usd + usd > self.usd:
                raise self._refused("usd", usd, model)
            self.reserved_tokens += tokens
            self.reserved_usd += usd or 0.0
            self.in_flight += 1

    def release(self, *, tokens: int, usd: float | None) -> None:
        """Give back what a call held (it was not sent, or failed)."""
        with self._lock:
            self._give_back(tokens, usd)

    def _give_back(self, tokens: int, usd: float | None) -> None:
        """Take one call's hold off (under the lock)."""
        self.in_flight -= 1
        if self.in_flight <= 0:
            self.in_flight, self.reserved_tokens, self.reserved_usd = 0, 0, 0.0
            return
        self.reserved_tokens -= tokens
        self.reserved_usd = max(0.0, self.reserved_usd - (usd or 0.0))

    def charge(
        self,
        *,
        tokens: int,
        usd: float | None,
        model: str,
        held: tuple[int, float | None] | None = None,
    ) -> None:
        """Count a finished call, giving back what it ``held`` (tokens, usd) when it reserved;
        raise if the total went past a limit."""
        with self._lock:
            if held is not None:
                self._give_back(*held)
            self.calls += 1
            self.spent_tokens += tokens
            if usd is None:
                self.unpriced_calls += 1
                if self.usd is not None and self.unpriced_calls == 1:
                    warn(
                        f"budget(usd={self.usd}) cannot count calls to {model}: no price is known "
                        "for it; set one with lmbench.observe.set_price(...) or use a token budget"
                    )
            else:
                self.spent_usd += usd
            if self.tokens is not None and self.spent_tokens > self.tokens:
                raise self._exceeded("tokens", self.spent_tokens, self.tokens, model)
            if self.usd is not None and self.spent_usd > self.usd:
                raise self._exceeded("usd", self.spent_usd, self.usd, model)

    def _refused(self, kind: str, estimate: float, model: str) -> BudgetExceeded:
        spent = self.spent_tokens if kind == "tokens" else self.spent_usd
        held = self.reserved_tokens if kind == "tokens" else self.reserved_usd
        limit = self.tokens if kind == "tokens" else self.usd
        return self._exceeded(kind, spent, limit or 0, model, before=estimate, held=held)

    @staticmethod
    def _exceeded(
        kind: str,
        spent: float,
        limit: float,
        model: str,
        *,
        before: float | None = None,
        held: float = 0,
    ) -> BudgetExceeded:
        def show(value: float) -> str:
            return format_usd(value) if kind == "usd" else f"{int(value)} tokens"

        if before is not None:
            in_flight = f" (and the {show(held)} held by calls in flight)" if held else ""
            message = (
                f"budget exceeded ({kind}): a call to {model} estimated at {show(before)} would take "
                f"the spent {show(spent)}{in_flight} past the limit of {show(limit)}; the call was "
                f"not made. Raise the limit (budget({kind}=...)), set or lower max_tokens (the call "
                "reserves all of it), or shorten the prompt."
            )
        else:
            message = (
                f"budget exceeded ({kind}): spent {show(spent)} of the {show(limit)} limit after a "
                f"call to {model}; its result is kept in history. Raise the limit with "
                f"budget({kind}=...) to go on."
            )
        return BudgetExceeded(message, kind=kind, spent=spent, limit=limit, estimate=before)


class Reservation:
    """What one call holds on every active budget from before it is sent until it settles."""

    __slots__ = ("budgets", "tokens", "usd")

    def __init__(self, budgets: tuple[Budget, ...], tokens: int, usd: float | None) -> None:
        self.budgets, self.tokens, self.usd = budgets, tokens, usd

    def settle(self, *, tokens: int, usd: float | None, model: str) -> None:
        """Replace the hold with the call's real cost on every budget; raise the first
        ``BudgetExceeded`` once all are counted."""
        exceeded: BudgetExceeded | None = None
        for limit in self.budgets:
            try:
                limit.charge(tokens=tokens, usd=usd, model=model, held=(self.tokens, self.usd))
            except BudgetExceeded as exc:
                exceeded = exceeded or exc
        if exceeded is not None:
            raise exceeded

    def release(self) -> None:
        for limit in self.budgets:
            limit.release(tokens=self.tokens, usd=self.usd)


def reserve(
    budgets: tuple[Budget, ...], *, tokens: int, usd: float | None, model: str
) -> Reservation:
    """Hold ``tokens``/``usd`` on each of ``budgets``, all or none (``BudgetExceeded``)."""
    held: list[Budget] = []
    try:
        for limit in budgets:
            limit.reserve(tokens=tokens, usd=usd, model=model)
            held.append(limit)
    except BudgetExceeded:
        for limit in held:
            limit.release(tokens=tokens, usd=usd)
        raise
    return Reservation(budgets, tokens, usd)


_active: ContextVar[tuple[Budget, ...]] = ContextVar("lmbench_budgets", default=())
_session: Budget | None = None


def active_budgets() -> tuple[Budget, ...]:
    """The budgets in force here, outermost (the session budget) first."""
    scoped = _active.get()
    return scoped if _session is None else (_session, *scoped)


def _checked(usd: float | None, tokens: int | None, where: str) -> Budget:
    if usd is None and tokens is None:
        raise ConfigError(f"{where} needs a limit: pass usd=... (dollars) and/or tokens=...")
    for name, value in (("usd", usd), ("tokens", tokens)):
        if value is not None and (not isinstance(value, (int, float)) or value < 0):
            raise ConfigError(f"{where}: {name}={value!r} must be a number >= 0")
    return Budget(usd=usd, tokens=tokens)


def budget(
    usd: float | None = None, tokens: int | None = None
) -> contextlib.AbstractContextManager[Budget]:
    """Limit spending in the block: ``with budget(usd=0.50, tokens=100_000) as b: ...``."""
    return limited_by(_checked(usd, tokens, "budget()"))


@contextlib.contextmanager
def limited_by(limit: Budget) -> Iterator[Budget]:
    """Put ``limit`` in force in the block, inside the budgets already in force."""
    token = _active.set((*_active.get(), limit))
    try:
        yield limit
    finally:
        _active.reset(token)


def set_session_budget(usd: float | None = None, tokens: int | None = None) -> Budget | None:
    """A budget over every later call of this process (a notebook session), in every thread.

    Called without limits, it removes the session budget. Returns the new budget.
    """
    global _session
    _session = (
        None if usd is None and tokens is None else _checked(usd, tokens, "set_session_budget()")
    )
    return _session


def session_budget() -> Budget | None:
    """The session budget set by ``set_session_budget``, if any."""
    return _session
