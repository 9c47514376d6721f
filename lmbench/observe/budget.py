"""``budget(usd=..., tokens=...)``: a spending limit over the LM calls made inside a block.

Budgets nest (every enclosing budget counts every call) and follow ``contextvars``: asyncio
tasks started inside the block, and threads run in a copy of its context
(``contextvars.copy_context().run``), count against it too. Before a call, its usage is
estimated (prompt size, ``max_tokens``) and priced: a call that would cross a limit is refused
with ``BudgetExceeded``. When nothing can be estimated (no ``max_tokens``, an unpriced model),
the call runs and ``BudgetExceeded`` is raised right after the call that crossed the limit.
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
from lmbench.observe.logs import warn

__all__ = ["Budget", "active_budgets", "budget", "session_budget", "set_session_budget"]


@dataclass(eq=False)
class Budget:
    """Limits and what was spent so far. ``None`` means no limit of that kind."""

    usd: float | None = None
    tokens: int | None = None
    spent_usd: float = 0.0
    spent_tokens: int = 0
    calls: int = 0
    unpriced_calls: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check_before(self, *, tokens: int, usd: float | None, model: str) -> None:
        """Refuse a call estimated at ``tokens``/``usd`` that would cross a limit."""
        with self._lock:
            if self.tokens is not None and self.spent_tokens + tokens > self.tokens:
                raise self._exceeded("tokens", self.spent_tokens, self.tokens, model, before=tokens)
            if self.usd is not None and usd is not None and self.spent_usd + usd > self.usd:
                raise self._exceeded("usd", self.spent_usd, self.usd, model, before=usd)

    def charge(self, *, tokens: int, usd: float | None, model: str) -> None:
        """Count a finished call; raise if it took the total past a limit."""
        with self._lock:
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

    @staticmethod
    def _exceeded(
        kind: str, spent: float, limit: float, model: str, *, before: float | None = None
    ) -> BudgetExceeded:
        def show(value: float) -> str:
            return f"${value:.6f}" if kind == "usd" else f"{int(value)} tokens"

        if before is not None:
            message = (
                f"budget exceeded ({kind}): a call to {model} estimated at {show(before)} would take "
                f"the spent {show(spent)} past the limit of {show(limit)}; the call was not made. "
                f"Raise the limit (budget({kind}=...)), lower max_tokens, or shorten the prompt."
            )
        else:
            message = (
                f"budget exceeded ({kind}): spent {show(spent)} of the {show(limit)} limit after a "
                f"call to {model}; its result is kept in history. Raise the limit with "
                f"budget({kind}=...) to go on."
            )
        return BudgetExceeded(message, kind=kind, spent=spent, limit=limit)


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


@contextlib.contextmanager
def budget(usd: float | None = None, tokens: int | None = None) -> Iterator[Budget]:
    """Limit spending in the block: ``with budget(usd=0.50, tokens=100_000) as b: ...``."""
    limit = _checked(usd, tokens, "budget()")
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
