"""Callbacks: user code told when modules, LM calls, adapters and tools start and end.

Subclass ``Callback`` and override the methods you need; each receives one ``CallbackEvent``
whose payload keys read as attributes (``event.call``, ``event.error``...). Callbacks come
from three places, all of which apply: the settings (``configure(callbacks=[...])`` or
``with context(callbacks=[...])``), and every enclosing module (``module_call(...,
callbacks=[...])``). ``lmbench.calls.emit`` tells them of an event. A callback that raises is logged on the ``lmbench`` logger (and warned
about once); the call it watched goes on. Callbacks run synchronously, in the thread of the
call; an ``async def`` method is not run (warned about once).

Events and payload keys:

====================  ===========================================================
module_start/end      call (ModuleCall), inputs / outputs, error
lm_start/end          call (LMCall), lm, request / response, entry, error
adapter_format_*      adapter, signature, inputs... / messages, error (adapter-defined)
adapter_parse_*       adapter, signature, text... / outputs, diagnostics, error
tool_start/end        tool, arguments / result, error
====================  ===========================================================
"""

from __future__ import annotations

import inspect
import time
import warnings
from dataclasses import dataclass
from typing import Any

from lmbench.logs import logger

__all__ = ["EVENTS", "Callback", "CallbackEvent", "dispatch", "merge_callbacks"]

EVENTS = frozenset(
    {
        "module_start",
        "module_end",
        "lm_start",
        "lm_end",
        "embedding_start",
        "embedding_end",
        "adapter_format_start",
        "adapter_format_end",
        "adapter_parse_start",
        "adapter_parse_end",
        "tool_start",
        "tool_end",
    }
)


@dataclass(frozen=True, slots=True)
class CallbackEvent:
    """What happened: ``name`` (e.g. ``"lm_end"``), the call it belongs to, and a payload."""

    name: str
    call_id: str | None
    parent_id: str | None
    time: float
    payload: dict[str, Any]

    def __getattr__(self, key: str) -> Any:
        try:
            return self.payload[key]
        except KeyError:
            raise AttributeError(
                f"event {self.name!r} has no {key!r}; it carries {sorted(self.payload)}"
            ) from None


class Callback:
    """Base class: every method is a no-op, override what you need."""

    def on_module_start(self, event: CallbackEvent) -> None: ...
    def on_module_end(self, event: CallbackEvent) -> None: ...
    def on_lm_start(self, event: CallbackEvent) -> None: ...
    def on_lm_end(self, event: CallbackEvent) -> None: ...
    def on_embedding_start(self, event: CallbackEvent) -> None: ...
    def on_embedding_end(self, event: CallbackEvent) -> None: ...
    def on_adapter_format_start(self, event: CallbackEvent) -> None: ...
    def on_adapter_format_end(self, event: CallbackEvent) -> None: ...
    def on_adapter_parse_start(self, event: CallbackEvent) -> None: ...
    def on_adapter_parse_end(self, event: CallbackEvent) -> None: ...
    def on_tool_start(self, event: CallbackEvent) -> None: ...
    def on_tool_end(self, event: CallbackEvent) -> None: ...


def merge_callbacks(first: tuple[Any, ...], second: tuple[Any, ...] | list[Any]) -> tuple[Any, ...]:
    """``first`` then the members of ``second`` not already in it (by identity)."""
    if not second:
        return first
    if not first:
        return tuple(second)
    seen = {id(c) for c in first}
    return first + tuple(c for c in second if id(c) not in seen)


_warned: set[tuple[type, str]] = set()


def _not_awaited(callback: Any, method_name: str, outcome: Any) -> None:
    """An ``async def`` callback method: callbacks run synchronously inside the call, so its
    coroutine is closed unrun, with one warning saying so (never "coroutine never awaited")."""
    close = getattr(outcome, "close", None)
    if close is not None:
        close()
    key = (type(callback), method_name)
    if key in _warned:
        return
    _warned.add(key)
    warnings.warn(
        f"callback {type(callback).__name__}.{method_name} is async; callbacks are called "
        "synchronously inside the call, so it did not run: make it a plain method (it may "
        "start async work itself, e.g. with asyncio.get_running_loop().create_task(...))",
        RuntimeWarning,
        stacklevel=3,
    )


def dispatch(
    callbacks: tuple[Any, ...],
    name: str,
    *,
    call_id: str | None,
    parent_id: str | None,
    payload: dict[str, Any],
    at: float | None = None,
) -> None:
    """Run ``on_<name>`` of every callback; a callback's exception never reaches the caller.
    ``at``: when it happened (default: now; events from Dask workers keep their own time)."""
    event = CallbackEvent(name, call_id, parent_id, time.time() if at is None else at, payload)
    method_name = "on_" + name
    for callback in callbacks:
        method = getattr(callback, method_name, None)
        if method is None:
            continue
        try:
            outcome = method(event)
            if inspect.isawaitable(outcome):
                _not_awaited(callback, method_name, outcome)
        except Exception:
            logger.exception("callback %r failed in %s; the call goes on", callback, method_name)
            key = (type(callback), name)
            if key not in _warned:
                _warned.add(key)
                warnings.warn(
                    f"callback {type(callback).__name__}.{method_name} raised; the call went on "
                    "(details on the 'lmbench' logger; further failures of it are only logged)",
                    RuntimeWarning,
                    stacklevel=2,
                )
