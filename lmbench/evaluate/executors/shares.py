"""Budgets over a Dask run: each partition carries a share of what is left, reserved here
before it is sent, so workers stop at their share instead of spending past the limit.

Driver side (``Shares``): before a partition is submitted, ``take`` reserves a share of every
budget in force (what is neither spent nor held, split over the partitions waiting to go; at
least what the workers last asked for one call) as one reservation, and the task carries it
as a ``ShareLimit``. When the partition returns, ``settle`` gives the share back and charges
each of its calls at its real cost (from its history entry), raising ``BudgetExceeded`` as a
local call would once a limit was crossed.

Worker side: the partition runs under ``ShareLimit.applied()``, a budget the size of its
share. Each call reserves its most before it is sent, as locally, so a call the share cannot
hold is refused and not sent; the partition then stops and reports that call's estimate
(``refused``). The share never raises after a call (the real limits are checked on the
driver). The driver sends the rows that did not run again, with a new share, once budget is
free; when nothing is in flight and what is left cannot hold the call a worker asked for,
the run stops with ``BudgetExceeded`` over the real limit. So spending passes a limit by at
most the per-call estimate's error, as it does locally, not by a partition's worth of calls.

A row refused after some of its calls were made runs again whole; those calls are billed
again unless the response cache serves them (it does by default for deterministic calls, and
workers on this machine share the driver's disk cache). Its next share holds everything the
refused attempt needed, so each retry gets further.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from lmbench.calls.budget import Budget, Reservation, active_budgets, limited_by, reserve
from lmbench.errors import BudgetExceeded
from lmbench.money import format_usd
from lmbench.observe.entry import HistoryEntry

__all__ = ["Refused", "ShareLimit", "Shares"]

# a share is cut a hair below what is left, so float sums of shares never cross a limit
_SAFETY = 1 - 1e-9


@dataclass(frozen=True)
class Refused:
    """The call a worker's share could not hold: what it would have reserved, and what the
    share would have needed in all to let it through (spent, held and asked)."""

    tokens: int
    usd: float | None
    model: str
    total_tokens: int = 0
    total_usd: float = 0.0


class _ShareBudget(Budget):
    """A worker's share: refuses a call it cannot hold (noting it), never raises after one."""

    refused: Refused | None = None

    def reserve(self, *, tokens: int, usd: float | None, model: str) -> None:
        try:
            super().reserve(tokens=tokens, usd=usd, model=model)
        except BudgetExceeded:
            self.refused = Refused(
                tokens,
                usd,
                model,
                self.spent_tokens + self.reserved_tokens + tokens,
                self.spent_usd + self.reserved_usd + (usd or 0.0),
            )
            raise

    def charge(
        self,
        *,
        tokens: int,
        usd: float | None,
        model: str,
        held: tuple[int, float | None] = (0, 0.0),
    ) -> None:
        with contextlib.suppress(BudgetExceeded):  # the driver checks the real limits
            super().charge(tokens=tokens, usd=usd, model=model, held=held)


@dataclass(frozen=True)
class ShareLimit:
    """What one partition may hold at once (``None``: no limit of that kind)."""

    usd: float | None
    tokens: int | None

    @contextlib.contextmanager
    def applied(self) -> Iterator[_ShareBudget]:
        """On a worker: the calls in the block reserve on this share."""
        share = _ShareBudget(usd=self.usd, tokens=self.tokens)
        share.unpriced_calls = 1  # an unpriced model is warned about on the driver, once
        with limited_by(share):
            yield share


class Shares:
    """The budgets in force on the driver, handed out to partitions in shares."""

    def __init__(self, budgets: tuple[Budget, ...]) -> None:
        self.budgets = budgets
        self.need_tokens = 0  # the most a refused call (or a row) asked for so far
        self.need_usd = 0.0

    @classmethod
    def in_force(cls) -> Shares | None:
        budgets = active_budgets()
        return cls(budgets) if budgets else None

    def _left(self) -> tuple[float | None, int | None]:
        """USD and tokens neither spent nor held, on the tightest budget of each kind."""
        usd = [b.usd - b.spent_usd - b.reserved_usd for b in self.budgets if b.usd is not None]
        tokens = [
            b.tokens - b.spent_tokens - b.reserved_tokens
            for b in self.budgets
            if b.tokens is not None
        ]
        return (max(0.0, min(usd)) if usd else None), (max(0, min(tokens)) if tokens else None)

    def take(self, waiting: int, at_once: int) -> tuple[ShareLimit, Reservation] | None:
        """A share for the next of ``waiting`` partitions that each run ``at_once`` calls at a
        time, reserved: an even part of what is left, or, when that is less, room for its
        calls at once (as far as what is left goes), and never less than the call a worker
        last asked for. None when what is left cannot hold that call (wait for partitions
        to settle)."""
        usd_left, tokens_left = self._left()
        if (usd_left is not None and usd_left < self.need_usd) or (
            tokens_left is not None and tokens_left < self.need_tokens
        ):
            return None
        usd = tokens = None
        if usd_left is not None:
            room = min(self.need_usd * at_once, usd_left) * _SAFETY
            usd = max(usd_left / waiting * _SAFETY, room, self.need_usd)
        if tokens_left is not None:
            room_tokens = min(self.need_tokens * at_once, tokens_left)
            tokens = max(tokens_left // waiting, room_tokens, self.need_tokens)
        try:
            held = reserve(self.budgets, tokens=tokens or 0, usd=usd, model="a Dask partition")
        except BudgetExceeded:  # calls in this process took it meanwhile
            return None
        return ShareLimit(usd, tokens), held

    def refused(self, call: Refused, *, progressed: bool) -> None:
        """A worker's share could not hold ``call``: later shares hold at least as much; when
        its partition finished no row, at least all its share would have needed (a row making
        several calls then gets room for them all, and each retry gets more, so a run that
        cannot progress ends with ``exhausted``)."""
        tokens, usd = (
            (call.tokens, call.usd or 0.0) if progressed else (call.total_tokens, call.total_usd)
        )
        self.need_tokens = max(self.need_tokens, tokens)
        self.need_usd = max(self.need_usd, usd)

    def settle(self, held: Reservation, entries: Iterable[HistoryEntry]) -> None:
        """Give a partition's share back and charge its calls; the first ``BudgetExceeded``
        is raised once all are counted."""
        held.release()
        exceeded: BudgetExceeded | None = None
        for entry in entries:
            if not entry.is_model_call or entry.cache in ("memory", "disk"):
                continue  # roll-ups and cache hits cost nothing
            if entry.error is not None and entry.response is None:
                continue  # a call that failed or was refused: nothing billed
            for limit in self.budgets:
                try:
                    limit.charge(
                        tokens=entry.usage.total_tokens,
                        usd=entry.cost_usd,
                        model=f"{entry.provider}/{entry.model}",
                    )
                except BudgetExceeded as exc:
                    exceeded = exceeded or exc
        if exceeded is not None:
            raise exceeded

    def exhausted(self) -> BudgetExceeded:
        """The error that ends a run whose next call no budget left can hold."""
        _, tokens_left = self._left()
        if tokens_left is not None and tokens_left < self.need_tokens:
            limit = min((b for b in self.budgets if b.tokens is not None), key=_tokens_left)
            return _refusal("tokens", limit.spent_tokens, limit.tokens or 0, self.need_tokens)
        limit = min((b for b in self.budgets if b.usd is not None), key=_usd_left)
        return _refusal("usd", limit.spent_usd, limit.usd or 0.0, self.need_usd)


def _tokens_left(limit: Budget) -> float:
    return (limit.tokens or 0) - limit.spent_tokens - limit.reserved_tokens


def _usd_left(limit: Budget) -> float:
    return (limit.usd or 0.0) - limit.spent_usd - limit.reserved_usd


def _refusal(kind: str, spent: float, limit: float, estimate: float) -> BudgetExceeded:
    def show(value: float) -> str:
        return format_usd(value) if kind == "usd" else f"{int(value)} tokens"

    return BudgetExceeded(
        f"budget exceeded ({kind}): the run's next row needs at least {show(estimate)} (what "
        f"a worker asked for), which would take the spent {show(spent)} past the limit of "
        f"{show(limit)}; the rows left were not run. Raise the limit (budget({kind}=...)), set "
        "or lower max_tokens (each call reserves all of it), or shorten the prompts.",
        kind=kind,
        spent=spent,
        limit=limit,
        estimate=estimate,
    )
