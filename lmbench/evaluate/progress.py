"""Progress of a run: a tqdm bar whose last state stays readable in a saved notebook.

In a Jupyter kernel the bar is tqdm's notebook widget shown through a display handle; when
the run ends the handle is updated with plain text and HTML ("20/20 rows · 3 s"), so a
notebook reopened without widget state shows the final count instead of a bar stuck at 0%.
Elsewhere it is tqdm's text bar on stderr. Nothing is imported unless a bar is shown.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

__all__ = ["RunProgress", "in_notebook"]


def in_notebook() -> bool:
    """True inside a Jupyter kernel (checked without importing IPython)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def summary(done: int, total: int, seconds: float, errors: int, unit: str = "rows") -> str:
    shown = f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}"
    text = f"{done}/{total} {unit} · {shown} s"
    if errors:
        text += f" · {errors} error{'s' if errors != 1 else ''}"
    return text


class RunProgress:
    """``advance(n, errors=...)`` from any thread; ``close()`` once at the end."""

    def __init__(self, total: int, *, description: str = "rows", enabled: bool = True) -> None:
        self.total = total
        self.done = 0
        self.errors = 0
        self.description = description
        self.started = time.perf_counter()
        self._lock = threading.Lock()
        self._bar: Any = None
        self._handle: Any = None
        if enabled and total > 0:
            self._open()

    def _open(self) -> None:
        if in_notebook():
            from IPython.display import display
            from tqdm.notebook import tqdm

            self._bar = tqdm(total=self.total, desc=self.description, unit="row", display=False)
            self._handle = display(self._bar.container, display_id=True)
        else:
            from tqdm.auto import tqdm

            self._bar = tqdm(total=self.total, desc=self.description, unit="row", leave=True)

    def advance(self, count: int = 1, *, errors: int = 0) -> None:
        with self._lock:
            self.done += count
            self.errors += errors
            if self._bar is not None:
                self._bar.update(count)
                if errors:
                    self._bar.set_postfix_str(f"{self.errors} errors", refresh=False)

    @property
    def showing(self) -> bool:
        """Whether a bar is on show (else ``advance`` need not be called)."""
        return self._bar is not None

    @property
    def text(self) -> str:
        return summary(self.done, self.total, time.perf_counter() - self.started, self.errors)

    def close(self) -> None:
        bar, self._bar = self._bar, None
        if bar is None:
            return
        text = f"{self.description}: {self.text}"
        if self._handle is not None:
            bar.close()
            colour = "#b26a00" if self.errors else "#2e7d32"
            html = f'<div style="font-family:monospace;color:{colour}">{_esc(text)}</div>'
            self._handle.update({"text/plain": text, "text/html": html}, raw=True)
            return
        bar.set_postfix_str(f"{self.errors} errors" if self.errors else "", refresh=False)
        bar.close()


def _esc(text: str) -> str:
    import html

    return html.escape(text)
