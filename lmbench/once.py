"""``Once``: a process-wide value made at its first use, by one thread only."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Once"]

T = TypeVar("T")


class Once(Generic[T]):
    """Holds ``make()``'s result, made on the first ``get()``: threads that ask at the same time
    wait for that one result instead of each making their own (a cache directory, a model
    runtime, a history database)."""

    def __init__(self, make: Callable[[], T]) -> None:
        self._make = make
        self._value: T | None = None
        self._lock = threading.Lock()

    def get(self) -> T:
        value = self._value
        if value is None:
            with self._lock:
                value = self._value
                if value is None:
                    value = self._value = self._make()
        return value

    def replace(self, make: Callable[[T | None], T]) -> T:
        """Put ``make(current)`` in place of the current value (None when none was made yet),
        under the same lock: ``make`` may close the value it replaces."""
        with self._lock:
            value = self._value = make(self._value)
        return value
