"""Callback events of rows run on Dask workers, told to the driver's callbacks.

Callbacks set with ``configure(callbacks=...)`` or ``context(callbacks=...)`` (and those of
the modules around the ``evaluate``/``batch`` call) stay in the driver process: they often
write to a notebook, a file or a list the user reads next, which would be lost on a worker.
Instead a ``RowEvents`` recorder listens on the worker, each event is made portable there,
and the driver tells its callbacks when the partition returns: row by row in row order, each
row's events in the order they happened, with each event's own time. The payload keys are the
local ones; their values are the same objects where they can travel, and otherwise:

- ``call``: a ``RemoteCall`` snapshot (ids, module, signature, model, cache state, error and,
  at the end, the call's ``entry``);
- ``lm``: the driver's own LM object the spec came from (never a key on the way);
- ``entry``: the very ``HistoryEntry`` the driver's history received;
- ``outputs`` (a ``Prediction``): its fields and parse details, without the live call tree;
- ``error``: the exception, or a ``RuntimeError`` with its description when it cannot travel;
- anything else that cannot be pickled: ``Unshipped`` (its type and repr).

Callbacks given to a module (``Predict(..., callbacks=[...])``) are part of the program: they
travel with it and run on the worker, where the module runs.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from lmbench.calls.callbacks import dispatch
from lmbench.calls.model_call import ModelCall
from lmbench.calls.tree import ModuleCall
from lmbench.errors import describe_error
from lmbench.evaluate.data import Row
from lmbench.evaluate.rows import RowResult
from lmbench.lm.base import BaseLM
from lmbench.observe.entry import HistoryEntry
from lmbench.primitives.prediction import Prediction

__all__ = ["PositionedTask", "RemoteCall", "RowEvents", "Unshipped", "deliver", "portable_error"]

#: The position of the row being run in this context (set around each row on a worker).
_row: ContextVar[int] = ContextVar("lmbench_dask_row", default=-1)

#: One recorded event: row position, name, call id, parent id, time, portable payload.
Recorded = tuple[int, str, "str | None", "str | None", float, dict[str, Any]]


def portable_error(error: BaseException) -> BaseException:
    """``error`` if it survives pickling (to travel to the driver), else a RuntimeError."""
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return RuntimeError(describe_error(error))
    return error


@dataclass(frozen=True)
class Unshipped:
    """A payload value that could not travel from the worker: its type and repr."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name} left on the worker: {self.text}>"


@dataclass
class RemoteCall:
    """What an event's ``call`` was on the worker (a module or a model call); ``entry`` is
    its history entry once it has ended."""

    call_id: str
    parent_id: str | None
    kind: str  # "module", or the model call's kind ("lm", "embedding")
    module: str | None = None
    signature: str | None = None
    model: str | None = None
    cache_state: str | None = None
    error: str | None = None
    entry: HistoryEntry | None = None

    @classmethod
    def of(cls, call: ModuleCall | ModelCall[Any, Any, Any]) -> RemoteCall:
        parent = call.parent.call_id if call.parent is not None else None
        if isinstance(call, ModuleCall):
            return cls(
                call.call_id, parent, "module", call.module, call.signature, None, None, call.error
            )
        return cls(
            call.call_id,
            parent,
            call.kind.entry_kind,
            call.parent.module if call.parent is not None else None,
            call.parent.signature if call.parent is not None else None,
            call.kind.client_label(call.client),
            call.cache_state,
            call.error,
        )


@dataclass(frozen=True)
class _LMRef:
    spec: dict[str, Any]


@dataclass(frozen=True)
class _EntryRef:
    call_id: str


def spec_key(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, default=str)


def _travels(value: Any) -> Any:
    """``value`` as it can travel to the driver (see the module docstring)."""
    from lmbench.evaluate.executors.transport import lm_spec

    if isinstance(value, BaseLM):
        try:
            return _LMRef(lm_spec(value))
        except Exception:
            return Unshipped(type(value).__name__, repr(value)[:200])
    if isinstance(value, (ModuleCall, ModelCall)):
        return RemoteCall.of(value)
    if isinstance(value, HistoryEntry):
        return _EntryRef(value.call_id)
    if isinstance(value, BaseException):
        return portable_error(value)
    if isinstance(value, Prediction):  # its fields and parse details, not the call tree
        value = Prediction.from_inner(value, inputs=value.inputs)
    try:
        pickle.dumps(value)
    except Exception:
        return Unshipped(type(value).__name__, repr(value)[:200])
    return value


class RowEvents:
    """On a worker: a callback that keeps every event, portable, with its row's position."""

    def __init__(self) -> None:
        self.events: list[Recorded] = []

    def __getattr__(self, name: str) -> Callable[[Any], None]:
        if name.startswith("on_"):
            return self._record
        raise AttributeError(name)

    def _record(self, event: Any) -> None:
        payload = {key: _travels(value) for key, value in event.payload.items()}
        self.events.append(  # list.append is atomic under the GIL
            (_row.get(), event.name, event.call_id, event.parent_id, event.time, payload)
        )


class PositionedTask:
    """A row task whose ``i``-th row is row ``positions[i]`` of the run, and whose events are
    tagged with that position."""

    def __init__(self, task: Any, positions: Sequence[int]) -> None:
        self.task = task
        self.positions = positions

    def run(self, row: Row, index: int) -> RowResult:
        position = self.positions[index]
        token = _row.set(position)
        try:
            return self.task.run(row, position)  # type: ignore[no-any-return]
        finally:
            _row.reset(token)


def deliver(
    callbacks: tuple[Any, ...],
    events: list[Recorded],
    entries: Mapping[str, HistoryEntry],
    lms: Mapping[str, Any],
) -> None:
    """Tell ``callbacks`` a partition's events, row by row in row order."""

    def resolved(value: Any) -> Any:
        if isinstance(value, _EntryRef):
            return entries.get(value.call_id)
        if isinstance(value, _LMRef):
            return lms.get(spec_key(value.spec), value)
        if isinstance(value, RemoteCall):
            value.entry = entries.get(value.call_id)
        return value

    for _, name, call_id, parent_id, at, payload in sorted(events, key=lambda e: e[0]):
        dispatch(
            callbacks,
            name,
            call_id=call_id,
            parent_id=parent_id,
            payload={key: resolved(value) for key, value in payload.items()},
            at=at,
        )
