"""What a module's stream says besides its output fields: status events.

``module.stream(**inputs)`` (and ``astream``, and ``streamify(program)``) yields, in order:

- ``FieldDelta`` (``lmbench.adapters``): new text of an output field of one of its LM calls;
- status events, the dataclasses below, each telling which module (``module``, its class
  name) is doing what: a step starting, a tool running with its arguments and what it
  returned, an attempt of ``BestOfN``/``Refine`` and its reward, a sandbox run, a notice;
- last, the result (a ``Prediction`` for the built-in modules).

Every status event has ``text``, one human line for a live display (``%%predict --stream``).

Emitting them. A module whose work is a generator of steps (``Module._steps``; see
``lmbench.modules.running``) ``yield``-s its status events there, between its steps; the
drivers pass them on to the stream, or to the consumer of an enclosing stream. Code that runs
outside such a generator (a tool, a sandbox, a worker thread) calls ``report(event)``, which
hands the event to the stream in progress in this context, if any, and does nothing otherwise.
A code-running module reports each execution with ``SandboxRun``: once with ``phase="start"``
(the code) and once with ``phase="end"`` (its output, error and whether it timed out).
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any, Literal

from lmbench.display import printable

__all__ = [
    "AttemptFinished",
    "AttemptStarted",
    "Notice",
    "SandboxRun",
    "StatusEvent",
    "StepStarted",
    "ToolFinished",
    "ToolStarted",
]

_SHORT = 120


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    text = " ".join(text.split())
    return text if len(text) <= _SHORT else text[: _SHORT - 1] + "…"


@dataclass(frozen=True)
class StatusEvent:
    """Base of the status events: ``module`` is the class name of the module that sent it."""

    module: str

    @property
    def text(self) -> str:
        return self.module

    def _repr_html_(self) -> str:
        """The line, as a notebook shows an event (inline style: survives untrusted notebooks)."""
        return f'<div style="font-family:monospace;color:#555">{html.escape(self.text)}</div>'

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(printable(self.text))


@dataclass(frozen=True)
class StepStarted(StatusEvent):
    """Step ``step`` (from 1) of ``total`` (None when open-ended) begins: ``name`` says which
    (a Program's step module, "step" of a ReAct loop, "extract")."""

    step: int
    total: int | None
    name: str

    @property
    def text(self) -> str:
        of = f"/{self.total}" if self.total else ""
        return f"{self.module} · step {self.step}{of}: {self.name}"


@dataclass(frozen=True)
class ToolStarted(StatusEvent):
    """A tool starts running with these arguments (in step ``step`` of the module)."""

    tool: str
    arguments: dict[str, Any]
    step: int

    @property
    def text(self) -> str:
        return f"{self.module} · running {self.tool}({_short(self.arguments)})"


@dataclass(frozen=True)
class ToolFinished(StatusEvent):
    """A tool returned (``observation``, as the model will read it) or failed (``error``)."""

    tool: str
    observation: str
    error: bool
    step: int

    @property
    def text(self) -> str:
        verb = "failed" if self.error else "returned"
        return f"{self.module} · {self.tool} {verb}: {_short(self.observation)}"


@dataclass(frozen=True)
class AttemptStarted(StatusEvent):
    """Attempt ``attempt`` (from 1) of at most ``of`` begins (BestOfN, Refine); ``hint`` is the
    advice Refine gives it (empty for the first)."""

    attempt: int
    of: int
    hint: str = ""

    @property
    def text(self) -> str:
        advice = f" with advice: {_short(self.hint)}" if self.hint else ""
        return f"{self.module} · attempt {self.attempt}/{self.of}{advice}"


@dataclass(frozen=True)
class AttemptFinished(StatusEvent):
    """Attempt ``attempt`` ended with ``reward``, or with ``error`` (its description)."""

    attempt: int
    reward: float | None
    error: str | None = None

    @property
    def text(self) -> str:
        outcome = f"failed: {_short(self.error)}" if self.error else f"reward {self.reward:g}"
        return f"{self.module} · attempt {self.attempt} {outcome}"


@dataclass(frozen=True)
class SandboxRun(StatusEvent):
    """Code running in a sandbox: ``phase="start"`` with the code, then ``phase="end"`` with
    its ``stdout``, ``error`` (traceback text or None) and ``timed_out``."""

    phase: Literal["start", "end"]
    code: str
    stdout: str = ""
    error: str | None = None
    timed_out: bool = False

    @property
    def text(self) -> str:
        if self.phase == "start":
            return f"{self.module} · running code: {_short(self.code)}"
        if self.timed_out:
            return f"{self.module} · code timed out"
        if self.error:
            return f"{self.module} · code failed: {_short(self.error.strip().splitlines()[-1])}"
        return f"{self.module} · code ran: {_short(self.stdout) or '(no output)'}"


@dataclass(frozen=True)
class Notice(StatusEvent):
    """Something the module decided on its own, e.g. ``kind="stagnation"`` (a repeated tool
    call) or ``kind="truncation"`` (old steps dropped to fit the context)."""

    kind: str
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return f"{self.module} · {self.kind}: {self.message}"
