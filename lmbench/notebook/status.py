"""A live status line for work that takes a while: what runs, what it is doing, seconds so far.

``LiveStatus`` draws one line (``• local/gemma-3-270m · waiting for the model · 4 s``) into a
*sink* (a function given the HTML to show: a cell's display handle, an ipywidgets ``HTML``),
redraws it every second from a small ticker thread, and is replaced in the same place by
whatever ends the work: the result, an error view, or a final summary. Anything may report
progress with ``status.doing("...")``: the callbacks ``watch()`` installs (LM call started,
answer parsed, tool running...), a stream's field deltas, a batch's row counter.

In a cell ``cell_status`` ties it to a display handle; where the front end shows no HTML
(terminal IPython) it returns None and nothing is drawn.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from lmbench.calls.callbacks import Callback, CallbackEvent
from lmbench.display import printable
from lmbench.notebook.html import NO_MATH, esc, style

__all__ = [
    "LiveStatus",
    "StatusCallback",
    "cell_status",
    "html_frontend",
    "seconds",
    "status_html",
]

Sink = Callable[[Any], None]

_SPINNER = "•"


def seconds(elapsed_s: float, *, done: bool = False) -> str:
    """``4 s`` while the work ticks; a final time under 10 s keeps a decimal (``0.4 s``)."""
    return f"{elapsed_s:.1f} s" if done and elapsed_s < 10 else f"{elapsed_s:.0f} s"


def status_html(
    what: str, doing: str, elapsed_s: float, *, done: bool = False, icon: str | None = None
) -> str:
    """The status line as HTML (plain text escaped here); ``icon`` replaces the ✓ or •."""
    icon = icon or ("✓" if done else _SPINNER)
    parts = [p for p in (what, doing, seconds(elapsed_s, done=done)) if p]
    text = " · ".join(parts)
    return (
        f'<div class="lmb lmb-status {NO_MATH}" {style("meta", "padding:2px 0")}>'
        f"{icon} {esc(text)}</div>"
    )


class _HTMLView:
    """Raw HTML with a text form, for a display handle."""

    def __init__(self, html: str, text: str) -> None:
        self.html = html
        self.text = text

    def _repr_html_(self) -> str:
        return self.html

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(printable(self.text))


class LiveStatus:
    """One live status line drawn into ``sink`` (called with a displayable object).

    ``what`` names the work (a model, ``row 2/4``), ``doing`` what it does right now.
    ``start`` draws it and starts the ticker; ``finish(view)`` stops the ticker and draws
    ``view`` instead (a result, an error view, a summary); ``stop`` only stops it.
    """

    def __init__(self, sink: Sink, what: str, *, doing: str = "starting", tick_s: float = 1.0):
        self._sink = sink
        self.what = what
        self.doing_now = doing
        self.below = ""  # HTML drawn under the line (fields streaming in)
        self._tick_s = tick_s
        self._started = time.perf_counter()
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def elapsed_s(self) -> float:
        return time.perf_counter() - self._started

    def html(self) -> str:
        return status_html(self.what, self.doing_now, self.elapsed_s) + self.below

    def text(self) -> str:
        return " · ".join(p for p in (self.what, self.doing_now, f"{self.elapsed_s:.0f} s") if p)

    def _draw(self) -> None:
        with self._lock:
            if not self._stopped.is_set():
                self._sink(_HTMLView(self.html(), self.text()))

    def start(self) -> LiveStatus:
        self._started = time.perf_counter()
        self._draw()
        # the ticker runs in a copy of this context: its output goes to this cell
        context = contextvars.copy_context()
        self._ticker = threading.Thread(
            target=context.run, args=(self._tick,), name="lmbench-status", daemon=True
        )
        self._ticker.start()
        return self

    def _tick(self) -> None:
        while not self._stopped.wait(self._tick_s):
            self._draw()

    def doing(self, text: str, *, what: str | None = None, redraw: bool = True) -> None:
        """Say what the work does now (and, optionally, rename it); redraws at once, or with
        ``redraw=False`` at the next tick. Safe from any thread."""
        self.doing_now = text
        if what is not None:
            self.what = what
        if redraw:
            self._draw()

    def show_below(self, html: str, *, doing: str | None = None) -> None:
        """Draw ``html`` under the line (e.g. the fields of a stream so far)."""
        self.below = html
        self.doing(doing if doing is not None else self.doing_now)

    def stop(self) -> None:
        with self._lock:
            self._stopped.set()
        if self._ticker is not None and self._ticker is not threading.current_thread():
            self._ticker.join(timeout=2)

    def finish(self, view: Any) -> None:
        """Stop and show ``view`` where the status line was."""
        self.stop()
        self._sink(view)

    def summary(self, doing: str, *, icon: str = "✓") -> _HTMLView:
        """A static final line (``✓ what · doing · 13 s``) to ``finish`` with."""
        text = " · ".join(p for p in (self.what, doing, seconds(self.elapsed_s, done=True)) if p)
        html = status_html(self.what, doing, self.elapsed_s, done=True, icon=icon)
        return _HTMLView(html, text)

    @contextlib.contextmanager
    def watch(self) -> Iterator[LiveStatus]:
        """Within the block, lmbench's callbacks report into this status line."""
        from lmbench.settings import context

        with context(callbacks=[StatusCallback(self)]):
            yield self


class StatusCallback(Callback):
    """Turns call events into status text: which model is called, parsing, tools."""

    def __init__(self, status: LiveStatus) -> None:
        self.status = status

    def on_module_start(self, event: CallbackEvent) -> None:
        module = getattr(event.payload.get("call"), "module", None)
        if module:
            self.status.doing(f"running {module}")

    def on_lm_start(self, event: CallbackEvent) -> None:
        name = getattr(event.payload.get("lm"), "name", None)
        self.status.doing("waiting for the model", what=name)

    def on_lm_end(self, event: CallbackEvent) -> None:
        self.status.doing("the call failed" if event.payload.get("error") else "answer received")

    def on_adapter_parse_start(self, event: CallbackEvent) -> None:
        adapter = event.payload.get("adapter")
        self.status.doing(f"parsing the answer ({getattr(adapter, 'name', adapter)})")

    def on_tool_start(self, event: CallbackEvent) -> None:
        tool = event.payload.get("tool")
        self.status.doing(f"running tool {getattr(tool, 'name', tool)}")


def html_frontend(shell: Any) -> bool:
    """Whether the front end shows HTML (a notebook), not only text (terminal IPython)."""
    formatter = getattr(shell, "display_formatter", None)
    return formatter is not None and "text/html" in getattr(formatter, "active_types", ())


def cell_status(shell: Any, what: str, *, doing: str = "starting") -> LiveStatus | None:
    """A status line in the running cell (a display handle), or None without HTML output."""
    if not html_frontend(shell):
        return None
    from IPython.display import display

    handle = display(_HTMLView(status_html(what, doing, 0.0), f"{what} · {doing}"), display_id=True)
    if handle is None:
        return None
    return LiveStatus(handle.update, what, doing=doing)
