"""``Sandbox``: run Python code in Pyodide under Deno, with nothing of the host within reach.

::

    with lmbench.Sandbox(timeout=10, memory_mb=256) as sb:
        sb.run("x = 6 * 7")
        result = sb.run("print('hi'); x + 1")
        result.stdout, result.value, result.error     # 'hi\\n', 43, None

Variables persist between runs, as in a REPL, until ``reset()``, which starts a new
interpreter in a new worker process: nothing a run did (variables, patched modules or builtins,
files in Pyodide's in-memory file system, JavaScript globals, timers) reaches a run after it.
Errors of the code are not raised: ``result.error`` holds the traceback. A run that passes
``timeout`` seconds is stopped by killing the worker, which starts afresh (its variables are
lost); so is a worker that runs out of memory: Python's heap and V8's JavaScript heap are each
capped at ``memory_mb``, and a worker whose resident memory passes ``2 * memory_mb + 256`` MB
during a run is stopped. Output beyond ``max_output`` characters per stream is dropped
(``result.truncated``); a value nested deeper than 100 levels comes back as its text. Each
error names the limit and the setting that raises it.

Tools: functions (or ``Tool`` objects) given as ``tools=`` are callable from the code by name;
each call comes back to this process, where the arguments are validated like any ``Tool``'s and
the function runs here. Its result goes back as JSON; its error is raised in the code as
``ToolError``. Time spent in tools does not count against ``timeout``; a run may call tools
at most 1000 times, with at most ``10 * max_output`` characters of arguments in all.
"""

from __future__ import annotations

import json
import keyword
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from pydantic import BaseModel

from lmbench.display import RichDisplay
from lmbench.errors import ConfigError, SandboxError, ToolError
from lmbench.sandbox.process import WorkerProcess
from lmbench.tools import Tool

__all__ = ["Sandbox", "SandboxResult", "SandboxToolCall"]

START_TIMEOUT = 60.0  # seconds for a worker to load Pyodide (about 0.5 s with the snapshot)
WATCH_INTERVAL = 0.05  # seconds between checks of the worker's memory during a run
BASE_MB = 256  # what Deno and Pyodide take before the code allocates anything, with room
MAX_TOOL_CALLS = 1000  # per run: time in tools is not counted, so a loop of calls must end
TOOL_ARGUMENTS_PER_OUTPUT = 10  # a run's tool calls carry at most 10 x max_output characters
MAX_DEPTH = 100  # levels of nesting of a value or tool arguments coming from the code
MAX_TOOL_NAME = 200  # characters of a tool name in a call from the code
MORE_MEMORY = " (give Sandbox(memory_mb=...) more if the work needs it)"
LOST = "the sandbox was restarted, so the variables of earlier runs are gone"


@dataclass(frozen=True)
class SandboxToolCall:
    """A tool called by sandboxed code: its arguments and what it returned or raised."""

    name: str
    arguments: dict[str, Any]
    result: Any = None
    error: str | None = None


@dataclass(frozen=True)
class SandboxResult(RichDisplay):
    """What one run produced. ``value`` is the last expression if it is JSON (else its repr);
    ``error`` the Python traceback, or why the run was stopped; None when all went well."""

    stdout: str = ""
    stderr: str = ""
    value: Any = None
    error: str | None = None
    timed_out: bool = False
    truncated: bool = False
    tool_calls: tuple[SandboxToolCall, ...] = ()
    duration: float = 0.0
    restarted: bool = field(default=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    def observation(self, limit: int = 4000) -> str:
        """The run as a model should read it: output, value or error, each cut to ``limit``."""
        parts = []
        if self.stdout:
            parts.append(f"stdout:\n{_cut(self.stdout, limit)}")
        if self.stderr:
            parts.append(f"stderr:\n{_cut(self.stderr, limit)}")
        if self.error is not None:
            parts.append(f"error:\n{_cut(self.error, limit)}")
        elif self.value is not None:
            parts.append(f"value: {_cut(json.dumps(self.value, ensure_ascii=False), limit)}")
        if self.truncated:
            parts.append(
                "(output was cut at the sandbox's max_output; print less, or give "
                "Sandbox(max_output=...) more)"
            )
        return "\n".join(parts) or "(no output)"


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + f"... [{len(text) - limit} more chars]"


class Sandbox(RichDisplay):
    """A Python sandbox in its own Deno process; see the module docstring."""

    def __init__(
        self,
        timeout: float = 10,
        memory_mb: int = 256,
        max_output: int = 1_000_000,
        *,
        tools: Iterable[Tool | Callable[..., Any]] = (),
    ) -> None:
        if not isinstance(timeout, (int, float)) or not timeout > 0:
            raise ConfigError(f"Sandbox(timeout={timeout!r}): give a number of seconds above 0")
        if not isinstance(memory_mb, int) or memory_mb < 64:
            raise ConfigError(
                f"Sandbox(memory_mb={memory_mb!r}): give whole megabytes, at least 64 "
                "(Python itself takes about 20)"
            )
        if not isinstance(max_output, int) or max_output < 1:
            raise ConfigError(f"Sandbox(max_output={max_output!r}): give a number of characters")
        self.timeout = float(timeout)
        self.memory_mb = memory_mb
        self.max_output = max_output
        self.tools = tool_table(tools)
        self.process_limit_mb = 2 * memory_mb + BASE_MB
        self.restarts = 0
        self._lock = threading.RLock()  # held by a run, a reset, and exclusive()
        self._slot: list[WorkerProcess | None] = [None]
        self._ready = False
        self._used = False  # whether the worker has run code since it started
        self._busy = False
        self._closed = False
        self._finalizer = weakref.finalize(self, _kill_slot, self._slot)
        self._start()

    # -- life -----------------------------------------------------------------------------

    def _start(self) -> None:
        self._slot[0] = WorkerProcess(memory_mb=self.memory_mb, max_output=self.max_output)
        self._ready = False
        self._used = False

    def _restart(self) -> None:
        _kill_slot(self._slot)
        if not self._closed:
            self.restarts += 1
            self._start()

    def _worker(self) -> WorkerProcess:
        """The running worker, waited for until it is ready (the caller holds the lock)."""
        if self._closed:
            raise SandboxError("this Sandbox is closed; create a new one")
        if self._busy:  # the lock is re-entrant: a tool of the run in progress called back
            raise SandboxError(
                "a tool used the sandbox that was running the code calling it; give the tool "
                "a Sandbox of its own"
            )
        if self._slot[0] is None:  # the last start failed: try again
            self._start()
        worker = self._slot[0]
        assert worker is not None
        if self._ready:
            return worker
        try:
            message = worker.receive(timeout=START_TIMEOUT)
        except SandboxError as exc:
            self._failed_start()
            raise SandboxError(f"the sandbox could not start: {exc}") from None
        if message is None or message.get("type") != "ready":
            detail = worker.stderr_tail()[-1500:]
            self._failed_start()
            raise SandboxError(
                f"the sandbox did not start within {START_TIMEOUT:.0f} s"
                + (f": {detail}" if detail else "")
            )
        self._ready = True
        return worker

    def _failed_start(self) -> None:
        _kill_slot(self._slot)
        self._slot[0] = None

    @contextmanager
    def exclusive(self) -> Iterator[Sandbox]:
        """Hold the sandbox for a sequence of runs (a module's call: reset, inputs, code):
        other threads' runs and resets wait until the block ends, so none lands in between."""
        with self._lock:
            yield self

    def start(self) -> Sandbox:
        """Wait until the worker is ready (runs do this themselves); returns self."""
        with self._lock:
            self._worker()
        return self

    @property
    def pid(self) -> int | None:
        """The process id of the Deno worker (None once closed)."""
        worker = self._slot[0]
        return None if worker is None or self._closed else worker.pid

    def close(self) -> None:
        """Stop the worker process, at once even during a run (which then returns an error).
        A closed sandbox cannot run code."""
        self._closed = True
        self._finalizer()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- running --------------------------------------------------------------------------

    def run(
        self,
        code: str,
        *,
        tools: Iterable[Tool | Callable[..., Any]] | None = None,
        on_tool: Callable[[SandboxToolCall, bool], None] | None = None,
    ) -> SandboxResult:
        """Run ``code``; ``tools`` (added to the sandbox's own) are callable from it by name.

        ``on_tool(call, done)`` hears of each tool call as it happens: before the tool runs
        (``done=False``, the call's arguments) and after (``done=True``, its result or error).
        """
        if not isinstance(code, str):
            raise ConfigError(
                f"Sandbox.run(code=...) takes the code as a str, got {type(code).__name__}"
            )
        table = {**self.tools, **tool_table(tools or ())}
        with self._lock:
            worker = self._worker()
            self._busy = True
            self._used = True
            try:
                return self._exchange(worker, code, table, on_tool)
            except BaseException:
                # interrupted (KeyboardInterrupt in a notebook) or a tool raised past ToolError:
                # the worker may still be running the code, so it is replaced before going on
                if not self._closed:
                    self._restart()
                raise
            finally:
                self._busy = False

    def _exchange(
        self,
        worker: WorkerProcess,
        code: str,
        table: dict[str, Tool],
        on_tool: Callable[[SandboxToolCall, bool], None] | None,
    ) -> SandboxResult:
        """Send the run, answer its tool calls, watch time and memory; the result."""
        started = time.monotonic()
        deadline = started + self.timeout
        run = _RunState(started, self.max_output)
        worker.send({"op": "run", "code": code, "tools": _describe(table)})
        watch_at = started + WATCH_INTERVAL
        while True:
            # time and memory are watched whatever the worker sends: a loop of tool calls or
            # of output sends a message every few milliseconds
            now = time.monotonic()
            if now >= watch_at:
                watch_at = now + WATCH_INTERVAL
                resident = worker.resident_mb()
                if resident is not None and resident > self.process_limit_mb:
                    return self._lost(
                        f"MemoryError: the sandbox used {resident:.0f} MB, more than its "
                        f"limit of {self.process_limit_mb} MB (memory_mb={self.memory_mb}), "
                        f"and was stopped{MORE_MEMORY}; {LOST}",
                        run,
                    )
            try:
                message = worker.receive(timeout=max(min(deadline, watch_at) - now, 0.0))
            except SandboxError as exc:
                if self._closed:
                    return SandboxResult(
                        stdout=run.text("stdout"),
                        stderr=run.text("stderr"),
                        error="SandboxError: the sandbox was closed during the run",
                    )
                return self._lost(f"SandboxError: {exc}; {LOST}", run)
            if message is None or (message["type"] != "result" and time.monotonic() > deadline):
                if time.monotonic() < deadline:
                    continue
                return self._lost(
                    f"TimeoutError: the code ran longer than timeout={self.timeout:g} s and "
                    f"was stopped (give Sandbox(timeout=...) more if the work needs it); {LOST}",
                    run,
                    timed_out=True,
                )
            if message["type"] == "output":
                run.add_output(message)
                continue
            if message["type"] == "tool":
                limit = run.over_limit(message, self.max_output)
                if limit is not None and run.refused:  # refused again: not kept, so that a
                    worker.send({"op": "tool_result", "reply": json.dumps({"error": limit})})
                    continue  # loop of calls cannot fill this process's memory
                run.refused = limit is not None
                began = time.monotonic()
                reply, record = self._call_tool(table, message, limit, on_tool)
                if on_tool is not None:
                    on_tool(record, True)
                run.calls.append(record)
                deadline += time.monotonic() - began
                worker.send({"op": "tool_result", "reply": json.dumps(reply, ensure_ascii=False)})
                continue
            if message["type"] != "result":
                return self._lost(
                    f"SandboxError: the worker sent an unexpected {message['type']!r} "
                    f"message; {LOST}",
                    run,
                )
            result = _result(message, run)
            if message.get("fatal"):
                self._restart()
                return replace(result, error=f"{result.error}; {LOST}", restarted=True)
            return result

    def _lost(self, error: str, run: _RunState, *, timed_out: bool = False) -> SandboxResult:
        """The worker had to be replaced mid-run: what it printed until then, and why."""
        self._restart()
        return SandboxResult(
            stdout=run.text("stdout"),
            stderr=run.text("stderr"),
            error=error,
            timed_out=timed_out,
            truncated=run.truncated,
            tool_calls=tuple(run.calls),
            duration=time.monotonic() - run.started,
            restarted=True,
        )

    def reset(self) -> None:
        """Start afresh: a new interpreter in a new worker process, so that nothing earlier
        runs did reaches later ones (an interpreter cannot be cleaned from inside: code can
        patch any module, builtin, file or JavaScript global). Nothing is done when the worker
        has run no code yet; otherwise the new worker starts in the background (about 0.3 s)
        and the next run waits for it. This does not count in ``restarts``."""
        with self._lock:
            if self._closed:
                raise SandboxError("this Sandbox is closed; create a new one")
            if self._busy:
                raise SandboxError(
                    "a tool reset the sandbox that was running the code calling it; give the "
                    "tool a Sandbox of its own"
                )
            if self._used or self._slot[0] is None:
                _kill_slot(self._slot)
                self._start()

    def _call_tool(
        self,
        table: Mapping[str, Tool],
        message: dict[str, Any],
        limit: str | None,
        on_tool: Callable[[SandboxToolCall, bool], None] | None,
    ) -> tuple[dict[str, Any], SandboxToolCall]:
        """Run the tool a ``"tool"`` message asks for (unless ``limit`` says why the run may
        call no more): the reply for the code (its value or error) and the record of the
        call. ``on_tool`` hears of the start here."""
        name = str(message.get("name"))[:MAX_TOOL_NAME]
        try:
            arguments = _load_json(str(message.get("args")), f"the arguments of tool {name!r}")
        except ValueError as exc:
            error = str(exc)
            return {"error": error}, SandboxToolCall(name, {}, error=error)
        if not isinstance(arguments, dict):
            error = f"tool {name!r} needs its arguments as keywords"
            return {"error": error}, SandboxToolCall(name, {}, error=error)
        tool = table.get(name)
        if on_tool is not None:
            on_tool(SandboxToolCall(name, arguments), False)
        try:
            if limit is not None:
                raise ToolError(limit, tool=name)
            if tool is None:
                raise ToolError(f"there is no tool named {name!r}", tool=name)
            result = _jsonable(tool(**arguments), name)
            text = json.dumps(result, ensure_ascii=False)
            if len(text) > self.max_output:
                raise ToolError(
                    f"tool {name!r} returned {len(text)} characters of JSON, more than the "
                    f"sandbox's max_output={self.max_output}",
                    tool=name,
                )
        except ToolError as exc:
            return {"error": str(exc)}, SandboxToolCall(name, arguments, error=str(exc))
        return {"value": result}, SandboxToolCall(name, arguments, result)

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"pid {self.pid}"
        return (
            f"Sandbox(timeout={self.timeout:g}, memory_mb={self.memory_mb}, "
            f"max_output={self.max_output}, tools={list(self.tools)}; {state})"
        )


def tool_table(tools: Iterable[Tool | Callable[..., Any]]) -> dict[str, Tool]:
    """Tools by name; each name must also be a Python identifier, to be called from code."""
    table: dict[str, Tool] = {}
    for item in tools:
        tool = item if isinstance(item, Tool) else Tool(item)
        if not tool.name.isidentifier() or keyword.iskeyword(tool.name):
            raise ConfigError(
                f"tool name {tool.name!r} cannot be called from Python code; give it a name "
                "that is a Python identifier with Tool(func, name=...)"
            )
        if tool.name in table and table[tool.name] is not tool:
            raise ConfigError(
                f"two tools are named {tool.name!r}; give one another name with Tool(func, name=...)"
            )
        table[tool.name] = tool
    return table


def _describe(table: Mapping[str, Tool]) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "params": list(tool.parameters.get("properties", {})),
            "doc": tool.description,
        }
        for name, tool in table.items()
    ]


def _jsonable(value: Any, tool: str) -> Any:
    """A tool's result as JSON data (pydantic models dumped, unknown objects as text)."""
    try:
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
        return json.loads(json.dumps(value, ensure_ascii=False, default=str))
    except (TypeError, ValueError, RecursionError) as exc:
        raise ToolError(
            f"tool {tool!r} returned a value that cannot be sent as JSON: {exc}", tool=tool
        ) from None


class _RunState:
    """What a run in progress has sent so far: output parts (at most ``max_output`` characters
    per stream, whatever the worker sends: code can break the worker's own count) and tool
    calls."""

    def __init__(self, started: float, max_output: int) -> None:
        self.started = started
        self.max_output = max_output
        self.calls: list[SandboxToolCall] = []
        self.argument_chars = 0
        self.refused = False  # a call was refused for the run's limits (and kept as a record)
        self.parts: dict[str, list[str]] = {"stdout": [], "stderr": []}
        self.sizes = {"stdout": 0, "stderr": 0}
        self.truncated = False

    def over_limit(self, message: dict[str, Any], max_output: int) -> str | None:
        """Why the run may not make this tool call, or None: too many calls, or too much
        argument text in all (what the records of the calls keep in this process)."""
        self.argument_chars += len(str(message.get("args", "")))
        budget = TOOL_ARGUMENTS_PER_OUTPUT * max_output
        if len(self.calls) >= MAX_TOOL_CALLS:
            return (
                f"the code called tools more than {MAX_TOOL_CALLS} times in one run; split the "
                "work over several runs"
            )
        if self.argument_chars > budget:
            return (
                f"the code's tool calls sent more than {budget} characters of arguments in one "
                f"run ({TOOL_ARGUMENTS_PER_OUTPUT} x max_output); pass less, or give "
                "Sandbox(max_output=...) more"
            )
        return None

    def add_output(self, message: dict[str, Any]) -> None:
        self._add(message.get("stream"), message.get("text"))

    def _add(self, stream: Any, text: Any) -> None:
        if stream in self.parts and isinstance(text, str) and text:
            room = self.max_output - self.sizes[stream]
            if len(text) > room:
                text = text[: max(room, 0)]
                self.truncated = True
            self.parts[stream].append(text)
            self.sizes[stream] += len(text)

    def text(self, stream: str, rest: Any = "") -> str:
        self._add(stream, rest)
        return "".join(self.parts[stream])


def _result(message: dict[str, Any], run: _RunState) -> SandboxResult:
    outcome = message.get("outcome")  # Python's JSON text, so 4.0 stays a float
    if isinstance(outcome, str):
        try:
            outcome = _load_json(outcome, "the value of the run")
        except ValueError as exc:
            outcome = {"error": f"SandboxError: {exc}"}
    if not isinstance(outcome, dict):
        outcome = {"error": message.get("error") or "the sandbox sent no outcome for the run"}
    error = outcome.get("error")
    if error is not None:  # the worker cuts it; code that patched the runner may not
        error = _cut(str(error), run.max_output)
    if isinstance(error, str) and error.rstrip().rpartition("\n")[2].startswith("MemoryError"):
        error = f"{error.rstrip()}\n(Python's heap is capped at memory_mb{MORE_MEMORY})"
    return SandboxResult(
        stdout=run.text("stdout", message.get("stdout")),
        stderr=run.text("stderr", message.get("stderr")),
        value=outcome.get("value"),
        error=None if error is None else str(error),
        truncated=bool(message.get("truncated")) or run.truncated,
        tool_calls=tuple(run.calls),
        duration=time.monotonic() - run.started,
    )


def _load_json(text: str, what: str) -> Any:
    """JSON text that came from the code; ``ValueError`` naming ``what`` when it is not JSON
    or nests lists and dicts deeper than ``MAX_DEPTH`` levels (which would overflow Python's
    stack here, in whatever records or shows it later)."""
    try:
        value = json.loads(text)
    except RecursionError:
        value = None
        deep = True
    except ValueError as exc:
        raise ValueError(f"{what} is not JSON: {exc}") from None
    else:
        deep = text.count("[") + text.count("{") > MAX_DEPTH and _too_deep(value)
    if deep:
        raise ValueError(
            f"{what}: lists or dicts nested deeper than {MAX_DEPTH} levels; flatten the data"
        )
    return value


def _too_deep(value: Any) -> bool:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            if depth > MAX_DEPTH:
                return True
            stack.extend((child, depth + 1) for child in _children(item))
    return False


def _children(item: list[Any] | dict[str, Any]) -> Iterable[Any]:
    return item.values() if isinstance(item, dict) else item


def _kill_slot(slot: list[WorkerProcess | None]) -> None:
    worker = slot[0]
    if worker is not None:
        worker.kill()
