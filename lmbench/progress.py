"""Progress of work over many items: the one progress view of ``lmbench.evaluate``,
``lmbench.batch``, ``lmbench.compare``, ``%%predict --over``, ``%%predict --compare`` and
``Embedder.embed`` over many batches.

In a notebook it is the cell's live status line (``lmbench.notebook.status``): it counts up
(``evaluate · 3/20 rows · 1 error · 4 s``), ticking every second, and ends in place as a static
summary (``✓ evaluate · 20/20 rows · 1 error · 13 s``), so a saved or reopened notebook shows
the final state: never a widget bar (which needs widget state to draw) or a bar stuck at 0%.
Elsewhere it is tqdm's text bar on stderr (when tqdm is installed). Nothing is imported
unless progress is shown.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["RunProgress", "summary", "track"]

T = TypeVar("T")


def summary(done: int, total: int, seconds: float, errors: int, unit: str = "rows") -> str:
    shown = f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}"
    return f"{_counts(done, total, errors, unit)} · {shown} s"


def _counts(done: int, total: int, errors: int, unit: str) -> str:
    text = f"{done}/{total} {unit}"
    if errors:
        text += f" · {errors} error{'s' if errors != 1 else ''}"
    return text


def _cell_line(description: str, doing: str) -> Any:
    """A live status line in the running notebook cell, or None outside a notebook (no
    IPython shell, or one that shows only text)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        return None
    from lmbench.notebook.status import cell_status  # the notebook layer sits above: load on use

    return cell_status(shell, description, doing=doing)


class RunProgress:
    """``advance(n, errors=...)`` from any thread; ``close()`` once at the end.

    ``unit`` names what is counted (``rows``, ``models``); ``working_on(label)`` says which
    item runs now, for work done one item at a time.
    """

    def __init__(
        self,
        total: int,
        *,
        description: str = "rows",
        unit: str = "rows",
        enabled: bool = True,
    ) -> None:
        self.total = total
        self.done = 0
        self.errors = 0
        self.description = description
        self.unit = unit
        self.started = time.perf_counter()
        self._current = ""
        self._drawn_at = 0.0
        self._lock = threading.Lock()
        self._line: Any = None  # a LiveStatus in a notebook
        self._bar: Any = None  # a tqdm text bar elsewhere
        if enabled and total > 0:
            self._open()

    def _open(self) -> None:
        self._line = _cell_line(self.description, self._doing())
        if self._line is not None:
            self._line.start()
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:  # tqdm comes with the notebook extra: without it, no bar
            return
        self._bar = tqdm(total=self.total, desc=self.description, unit=self.unit, leave=True)

    def _doing(self) -> str:
        counts = _counts(self.done, self.total, self.errors, self.unit)
        return f"{counts} · {self._current}" if self._current else counts

    #: Counts that change sooner than this after the last redraw wait for the line's next
    #: tick: a thousand cached rows finishing in a second send a few updates, not a thousand.
    MIN_REDRAW_S = 0.2

    def advance(self, count: int = 1, *, errors: int = 0) -> None:
        with self._lock:
            self.done += count
            self.errors += errors
            if self._line is not None:
                now = time.perf_counter()
                redraw = now - self._drawn_at >= self.MIN_REDRAW_S
                if redraw:
                    self._drawn_at = now
                self._line.doing(self._doing(), redraw=redraw)
            elif self._bar is not None:
                self._bar.update(count)
                if errors:
                    self._bar.set_postfix_str(f"{self.errors} errors", refresh=False)

    def working_on(self, label: str) -> None:
        """Name the item that runs now (``fixed/abcd``); shown after the counts."""
        with self._lock:
            self._current = label
            if self._line is not None:
                self._line.doing(self._doing())
            elif self._bar is not None:
                self._bar.set_postfix_str(label)

    @property
    def showing(self) -> bool:
        """Whether progress is on show (else ``advance`` need not be called)."""
        return self._line is not None or self._bar is not None

    @property
    def text(self) -> str:
        seconds = time.perf_counter() - self.started
        return summary(self.done, self.total, seconds, self.errors, self.unit)

    def close(self) -> None:
        """End the view: in a notebook the line becomes its static summary."""
        with self._lock:
            line, self._line = self._line, None
            bar, self._bar = self._bar, None
        if line is not None:
            complete = self.done >= self.total
            ending = _counts(self.done, self.total, self.errors, self.unit)
            if not complete:
                ending += " (stopped)"
            icon = "✓" if complete and not self.errors else "⚠"
            line.finish(line.summary(ending, icon=icon))
        elif bar is not None:
            bar.set_postfix_str(f"{self.errors} errors" if self.errors else "", refresh=False)
            bar.close()


def track(items: Iterable[T], *, total: int, description: str, unit: str) -> Iterator[T]:
    """Iterate over ``items`` (``total`` of them) under a ``RunProgress``: one item counts as
    done when the loop asks for the next; stopping early leaves a "(stopped)" summary."""
    bar = RunProgress(total, description=description, unit=unit)
    try:
        for item in items:
            yield item
            bar.advance(1)
    finally:
        bar.close()
