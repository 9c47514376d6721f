"""``SandboxPool``: the sandboxes a code-running module uses, one per call in progress.

A module given a sandbox uses that one, one call at a time, even when other modules or
copies share it (each call holds ``Sandbox.exclusive()``: the runs of two calls never
interleave, so none sees the other's inputs or variables). A module given none starts its own
on first use, and another only when calls overlap (``Parallel``, threads); idle ones are kept
for the next call and stop when the pool is collected. A sandbox of the pool's own is reset as
it comes back, so its next interpreter starts while nothing waits for it and no call sees what
an earlier one left behind. Copies of a module (``copy.deepcopy``) get a pool of their own.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from lmbench.errors import SandboxError
from lmbench.sandbox.sandbox import Sandbox

__all__ = ["SandboxPool"]


class SandboxPool:
    def __init__(self, sandbox: Sandbox | None = None, **settings: Any) -> None:
        if sandbox is not None and not isinstance(sandbox, Sandbox):
            from lmbench.errors import ConfigError

            raise ConfigError(
                f"sandbox={sandbox!r}: give an lmbench.Sandbox, or None for one of the module's own"
            )
        self.given = sandbox
        self.settings = settings
        self._idle: list[Sandbox] = []
        self._lock = threading.Lock()

    @contextmanager
    def lease(self) -> Iterator[Sandbox]:
        """A sandbox for this call alone, returned to the pool afterwards."""
        if self.given is not None:
            with self.given.exclusive():
                yield self.given
            return
        with self._lock:
            sandbox = self._idle.pop() if self._idle else None
        if sandbox is None:
            sandbox = Sandbox(**self.settings)
        try:
            yield sandbox
        finally:
            with contextlib.suppress(SandboxError):  # closed meanwhile: not kept
                sandbox.reset()
                with self._lock:
                    self._idle.append(sandbox)

    def close(self) -> None:
        """Stop the pool's own sandboxes (a given one is left running)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for sandbox in idle:
            sandbox.close()

    def __deepcopy__(self, memo: dict[int, Any]) -> SandboxPool:
        return SandboxPool(self.given, **self.settings)

    def __copy__(self) -> SandboxPool:
        return SandboxPool(self.given, **self.settings)

    def __repr__(self) -> str:
        return f"SandboxPool({self.given!r})" if self.given else f"SandboxPool({self.settings})"
