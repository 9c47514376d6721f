"""The one place an LM is called from: every module and adapter goes through ``lm_call``.

``with module_call("Predict", signature) as mc:`` opens a node in the call tree;
``with lm_call(lm, request, adapter="ChatAdapter") as call:`` makes one LM call inside it
(``call.run()`` / ``call.stream()``), and ``call.set_parse(...)`` attaches what the adapter
made of the text. When the block ends, the call is finished and recorded, failed or not.

Minimal version: calls the LM and keeps usage; cache, history, cost, budgets and callbacks
hook in here.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from lmbench.lm.base import LM
from lmbench.lm.types import LMRequest, LMResponse, StreamChunk, Usage

__all__ = ["LMCall", "ModuleCall", "current_module_call", "lm_call", "module_call"]


def _new_id() -> str:
    return uuid.uuid4().hex[:16]


@dataclass
class ModuleCall:
    """A node of the call tree: a module call, with its child module and LM calls."""

    module: str
    signature: str | None = None
    call_id: str = field(default_factory=_new_id)
    parent: ModuleCall | None = None
    children: list[ModuleCall | LMCall] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)
    ended: float | None = None
    error: str | None = None

    @property
    def root_id(self) -> str:
        node = self
        while node.parent is not None:
            node = node.parent
        return node.call_id

    def lm_calls(self) -> list[LMCall]:
        """Every LM call below this node, depth first."""
        out: list[LMCall] = []
        for child in self.children:
            if isinstance(child, LMCall):
                out.append(child)
            else:
                out.extend(child.lm_calls())
        return out

    @property
    def usage(self) -> Usage:
        total = Usage()
        for call in self.lm_calls():
            if call.response is not None and not call.cache_hit:
                total = total + call.response.usage
        return total


_current: ContextVar[ModuleCall | None] = ContextVar("lmbench_module_call", default=None)


def current_module_call() -> ModuleCall | None:
    return _current.get()


@contextlib.contextmanager
def module_call(module: str, signature: str | None = None) -> Iterator[ModuleCall]:
    parent = _current.get()
    node = ModuleCall(module=module, signature=signature, parent=parent)
    if parent is not None:
        parent.children.append(node)
    token = _current.set(node)
    try:
        yield node
    except BaseException as exc:
        node.error = f"{type(exc).__name__}: {exc}"
        raise
    finally:
        node.ended = time.perf_counter()
        _current.reset(token)


class LMCall:
    """One LM call: runs it, and holds what happened (response, parse result, error)."""

    def __init__(
        self,
        lm: LM,
        request: LMRequest,
        *,
        adapter: str | None = None,
        cache: bool | None = None,
    ) -> None:
        self.lm = lm
        self.request = request
        self.adapter = adapter
        self.cache = cache
        self.call_id = _new_id()
        self.parent = _current.get()
        self.response: LMResponse | None = None
        self.cache_hit: str | None = None  # None (miss), "memory" or "disk"
        self.diagnostics: list[dict[str, Any]] = []
        self.error: str | None = None
        self.started = time.perf_counter()
        if self.parent is not None:
            self.parent.children.append(self)

    def run(self) -> LMResponse:
        self.response = self.lm.generate(self.request)
        return self.response

    def stream(self) -> Iterator[StreamChunk]:
        for chunk in self.lm.stream(self.request):
            if chunk.response is not None:
                self.response = chunk.response
            yield chunk

    async def arun(self) -> LMResponse:
        self.response = await self.lm.agenerate(self.request)
        return self.response

    async def astream(self) -> AsyncIterator[StreamChunk]:
        async for chunk in self.lm.astream(self.request):
            if chunk.response is not None:
                self.response = chunk.response
            yield chunk

    def set_parse(
        self, *, adapter: str, diagnostics: list[dict[str, Any]], error: Exception | None = None
    ) -> None:
        self.adapter = adapter
        self.diagnostics = list(diagnostics)
        if error is not None:
            self.error = f"{type(error).__name__}: {error}"

    def finish(self, error: BaseException | None = None) -> None:
        if error is not None and self.error is None:
            self.error = f"{type(error).__name__}: {error}"


@contextlib.contextmanager
def lm_call(
    lm: LM, request: LMRequest, *, adapter: str | None = None, cache: bool | None = None
) -> Iterator[LMCall]:
    call = LMCall(lm, request, adapter=adapter, cache=cache)
    try:
        yield call
    except BaseException as exc:
        call.finish(exc)
        raise
    else:
        call.finish()
