"""The call tree: module calls nesting model calls, the context variable that links them, and
the callbacks in force at each node.

``with module_call("Predict", signature=str(sig)) as mc:`` opens a node; every model call
made inside the block (an LM call, an embedding call...) becomes its child, and so does every
nested module call. Nodes follow ``contextvars``: asyncio tasks started inside the block and
threads run in a copy of its context join the tree.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import time
import weakref
from contextvars import ContextVar, Token
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

from lmbench import settings as _settings
from lmbench.calls.callbacks import EVENTS, dispatch, merge_callbacks
from lmbench.display import RichDisplay
from lmbench.errors import describe_error
from lmbench.lm.types import Usage
from lmbench.logs import warn
from lmbench.observe import entry as _entry
from lmbench.observe import otel
from lmbench.observe.collectors import Collector, resolve_collector
from lmbench.observe.entry import HistoryEntry
from lmbench.observe.trace import call_tree, tree_to_json

if TYPE_CHECKING:
    from lmbench.calls.model_call import ModelCall

__all__ = [
    "CallNode",
    "ModuleCall",
    "active_callbacks",
    "current_module_call",
    "current_node",
    "emit",
    "module_call",
    "new_call_id",
    "record",
]

_id_prefix = secrets.token_hex(6)
_id_counter = itertools.count()


def new_call_id() -> str:
    """20 hex digits: a random per-process prefix and a counter (cheaper than uuid4)."""
    return f"{_id_prefix}{next(_id_counter):08x}"


def _reset_ids_after_fork() -> None:
    global _id_prefix, _id_counter
    _id_prefix = secrets.token_hex(6)
    _id_counter = itertools.count()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_ids_after_fork)


def record(entry: HistoryEntry, collector: Collector) -> None:
    """Hand ``entry`` to the collector; a failing collector is reported, never raised."""
    try:
        collector.add(entry)
    except Exception as exc:
        warn(f"history entry {entry.call_id} was not recorded: {describe_error(exc)}")


#: The innermost module call in progress in this context (``current_module_call()`` reads it).
current_node: ContextVar[ModuleCall | None] = ContextVar("lmbench_module_call", default=None)


def current_module_call() -> ModuleCall | None:
    """The innermost module call in progress here, if any."""
    return current_node.get()


def active_callbacks() -> tuple[Any, ...]:
    """Callbacks in force here: the settings' ones, then those of the enclosing modules."""
    node = current_node.get()
    configured = tuple(_settings.current().callbacks)
    return merge_callbacks(configured, node.callbacks) if node and node.callbacks else configured


def emit(event: str, **payload: Any) -> None:
    """Tell the callbacks in force here that ``event`` happened (adapters and tools call this).

    ``call_id`` in the payload names the call the event belongs to; by default it is the
    enclosing module call.
    """
    if event not in EVENTS:
        raise ValueError(f"unknown callback event {event!r}; known events: {sorted(EVENTS)}")
    callbacks = active_callbacks()
    if not callbacks:
        return
    node = current_module_call()
    call_id = payload.pop("call_id", None) or (node.call_id if node is not None else None)
    parent_id = node.parent.call_id if node is not None and node.parent is not None else None
    dispatch(callbacks, event, call_id=call_id, parent_id=parent_id, payload=payload)


class CallNode:
    """A node of the call tree used as a ``with`` block: it ends (``finish``) when the block
    does, failed or not, and sends its events to callbacks naming itself and its parent."""

    __slots__ = ()
    call_id: str
    _parent: weakref.ReferenceType[ModuleCall] | None
    started: float
    ended: float | None

    @property
    def parent(self) -> ModuleCall | None:
        """The module call this one is nested in (None at the root).

        Held weakly: parents hold their children, and a child that held its parent too would
        make every call tree a reference cycle, left for the garbage collector to find. So a
        dropped tree is freed at once; a node kept alone loses its parent once nothing else
        holds that module call.
        """
        ref = self._parent
        return ref() if ref is not None else None

    @property
    def duration_s(self) -> float | None:
        return None if self.ended is None else self.ended - self.started

    def finish(self, error: BaseException | None = None) -> None:
        raise NotImplementedError

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> Literal[False]:
        self.finish(exc)
        return False

    def _dispatch(self, callbacks: tuple[Any, ...], name: str, **payload: Any) -> None:
        dispatch(
            callbacks,
            name,
            call_id=self.call_id,
            parent_id=parent.call_id if (parent := self.parent) is not None else None,
            payload={"call": self, **payload},
        )


class ModuleCall(CallNode, RichDisplay):
    """A node of the call tree: one module call, with its child module and model calls.

    Used as ``with module_call(...) as mc``. After the block: ``mc.usage`` and ``mc.cost``
    add up every nested model call (cache hits excluded), ``mc.entries`` lists their history
    entries, ``mc.to_dict()`` is the whole tree with timings.
    """

    def __init__(
        self,
        module: str,
        signature: str | None = None,
        *,
        callbacks: tuple[Any, ...] | list[Any] = (),
        inputs: dict[str, Any] | None = None,
    ) -> None:
        self.module = module
        self.signature = signature
        self.inputs = inputs
        self.outputs: Any = None
        self.call_id = new_call_id()
        parent = current_node.get()
        self._parent = weakref.ref(parent) if parent is not None else None
        self.root_id: str = parent.root_id if parent is not None else self.call_id
        self.children: list[ModuleCall | ModelCall[Any, Any, Any]] = []
        inherited = parent.callbacks if parent is not None else ()
        self.callbacks: tuple[Any, ...] = (
            merge_callbacks(inherited, tuple(callbacks)) if callbacks else inherited
        )
        self.timestamp = time.time()
        self.started = time.perf_counter()
        self.ended: float | None = None
        self.error: str | None = None
        self.entry: HistoryEntry | None = None
        self._token: Token[ModuleCall | None] | None = None
        self._span: Any = None
        self._collector: Collector | None = None
        self._watchers: tuple[Any, ...] = ()
        self._run_id: str | None = None
        if parent is not None:
            parent.children.append(self)

    # -- the with block -------------------------------------------------------------------
    def __enter__(self) -> ModuleCall:
        self._token = current_node.set(self)
        settings = _settings.current()
        self._collector = resolve_collector(settings.history)  # a bad setting fails here
        self._run_id = settings.run_id
        configured = tuple(settings.callbacks)
        own = self.callbacks
        self._watchers = merge_callbacks(configured, own) if own else configured
        parent = self.parent
        self._span = otel.start_span(parent._span if parent is not None else None, self._describe)
        if self._watchers:
            self._dispatch(self._watchers, "module_start", inputs=self.inputs)
        return self

    def _describe(self) -> tuple[str, dict[str, Any]]:
        """The OpenTelemetry span's name and attributes."""
        return f"lmbench.module {self.module}", {
            "lmbench.module": self.module,
            "lmbench.signature": self.signature,
        }

    def finish(self, error: BaseException | None = None) -> None:
        """End the module call: record its entry, tell callbacks, close the span."""
        self.ended = time.perf_counter()
        if error is not None:
            self.error = describe_error(error)
        if self._token is not None:
            token, self._token = self._token, None
            with contextlib.suppress(ValueError):  # ended from another context (an abandoned
                current_node.reset(token)  # stream closed by the garbage collector)
        # Handed to the callbacks, then let go: a prediction holds its call, and a call that
        # kept the prediction would make a reference cycle of every call.
        outputs, self.outputs = self.outputs, None
        entry = self.entry = self._make_entry()
        if self._collector is not None:
            record(entry, self._collector)
        if self._watchers:
            self._dispatch(self._watchers, "module_end", outputs=outputs, error=error)
        if self._span is not None:
            otel.end_span(
                self._span,
                {
                    "gen_ai.usage.input_tokens": entry.usage.input_tokens,
                    "gen_ai.usage.output_tokens": entry.usage.output_tokens,
                    "lmbench.cost_usd": entry.cost_usd,
                },
                self.error,
            )

    def set_outputs(self, outputs: Any) -> None:
        """What the module returned, for its ``on_module_end`` callbacks (kept until the call
        ends)."""
        self.outputs = outputs

    # -- roll-ups ----------------------------------------------------------------------------

    def model_calls(self) -> list[ModelCall[Any, Any, Any]]:
        """Every model call (of any kind) below this node, depth first."""
        out: list[ModelCall[Any, Any, Any]] = []
        for child in self.children:
            if isinstance(child, ModuleCall):
                out.extend(child.model_calls())
            else:
                out.append(child)
        return out

    def lm_calls(self) -> list[Any]:
        """Every LM call below this node, depth first."""
        return [call for call in self.model_calls() if call.kind.entry_kind == "lm"]

    def _rollup(self) -> tuple[Usage, float | None, bool]:
        """Usage (cache hits excluded), cost (None if any is unpriced) and whether all are priced."""
        used: list[Usage] = []
        cost: float | None = 0.0
        known = True
        for call in self.model_calls():
            if call.response is not None and call.cache_hit is None:
                used.append(call.usage)
            price = call.price
            if price is not None and price.usd is None:
                known = False
                cost = None
            elif price is not None and cost is not None:
                cost += price.usd or 0.0
        return (used[0] if len(used) == 1 else sum(used, Usage())), cost, known

    @property
    def usage(self) -> Usage:
        """Tokens of every nested model call that reached the model (cache hits excluded)."""
        return self._rollup()[0]

    @property
    def cost(self) -> float | None:
        """USD of the nested calls; None when any of them has no known price (see ``cost_known``)."""
        return self._rollup()[1]

    @property
    def cost_known(self) -> bool:
        """False when some nested call is to a model without price data."""
        return self._rollup()[2]

    @property
    def entries(self) -> list[HistoryEntry]:
        """History entries of the nested model calls that have finished, depth first."""
        return [call.entry for call in self.model_calls() if call.entry is not None]

    def _make_entry(self) -> HistoryEntry:
        usage, cost, known = self._rollup()
        return HistoryEntry(
            kind="module",
            call_id=self.call_id,
            parent_id=parent.call_id if (parent := self.parent) is not None else None,
            root_id=self.root_id,
            session_id=_entry.SESSION_ID,
            timestamp=self.timestamp,
            module=self.module,
            signature=self.signature,
            usage=usage,
            cost_usd=cost,
            cost_known=known,
            latency_s=self.ended - self.started if self.ended is not None else 0.0,
            error=self.error,
            run_id=self._run_id,
        )

    # -- trace ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The call tree below this node with timings, as JSON-able data."""
        return call_tree(self)

    def to_json(self, *, indent: int | None = 2) -> str:
        return tree_to_json(self, indent=indent)

    def __repr__(self) -> str:
        state = "running" if self.ended is None else f"{self.duration_s:.3f}s"
        return (
            f"<ModuleCall {self.module} id={self.call_id} {state} "
            f"children={len(self.children)}{' error' if self.error else ''}>"
        )


def module_call(
    module: str,
    signature: str | None = None,
    *,
    callbacks: tuple[Any, ...] | list[Any] = (),
    inputs: dict[str, Any] | None = None,
) -> ModuleCall:
    """Open a module call: ``with module_call("Predict", signature=str(sig)) as mc: ...``.

    ``callbacks`` apply to this call and everything nested in it; ``inputs`` go to
    ``on_module_start`` callbacks.
    """
    return ModuleCall(module, signature, callbacks=callbacks, inputs=inputs)
