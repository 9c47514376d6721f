"""The part of the sandbox that runs inside Pyodide: it runs code in a namespace kept between
runs and answers in JSON. lmbench never imports this module; the worker executes its source as
the module ``_lmbench_runner`` when it starts. Standard library only.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import linecache
import os
import re
import sys
import traceback
from typing import Any

import _lmbench_host  # type: ignore[import-not-found]  # the worker's tool bridge
from pyodide.code import eval_code  # type: ignore[import-not-found]

_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_DEPTH = 100  # the host's limit on the nesting of a value (sandbox.MAX_DEPTH)
_runs = 0


class ToolError(Exception):
    """A tool called from sandboxed code failed; the message is the host's error."""


ToolError.__module__ = "builtins"  # shown as plain ``ToolError`` in tracebacks

# the code's variables, kept from run to run (a fresh start is a new worker: Sandbox.reset)
_namespace: dict[str, Any] = {
    "__name__": "__main__",
    "__builtins__": builtins,
    "ToolError": ToolError,
}


def _tool_function(name: str, params: list[str], doc: str) -> Any:
    def call(*args: Any, **kwargs: Any) -> Any:
        if len(args) > len(params):
            raise TypeError(f"{name}() takes {len(params)} arguments, {len(args)} were given")
        for param, value in zip(params, args, strict=False):
            if param in kwargs:
                raise TypeError(f"{name}() got multiple values for argument {param!r}")
            kwargs[param] = value
        reply = json.loads(_lmbench_host.call_tool(name, json.dumps(kwargs, default=repr)))
        if "error" in reply:
            raise ToolError(reply["error"])
        return reply["value"]

    call.__name__ = call.__qualname__ = name
    call.__doc__ = doc
    return call


def _user_traceback(exc: BaseException) -> str:
    """The traceback from the first frame of the user's code on, without the runner's frames."""
    tb = exc.__traceback__
    while tb is not None and not tb.tb_frame.f_code.co_filename.startswith("<run "):
        tb = tb.tb_next
    report = traceback.TracebackException(type(exc), exc, tb)
    report.stack = traceback.StackSummary.from_list(
        [frame for frame in report.stack if frame.filename != __name__]
    )
    return "".join(report.format())


def _jsonable(value: Any, limit: int) -> Any:
    """``value`` if it is JSON (short enough, nested at most ``MAX_DEPTH`` levels), else its
    ``repr``, cut at ``limit``; lone surrogates (which no UTF-8 text can hold) become U+FFFD."""
    try:
        text = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = None
    if text is not None and len(text) <= limit and not _too_deep(text, value):
        return json.loads(_SURROGATE.sub("\ufffd", text)) if _SURROGATE.search(text) else value
    shown = repr(value) if text is None else text
    shown = _SURROGATE.sub("\ufffd", shown)
    return shown if len(shown) <= limit else shown[:limit] + f"... [{len(shown) - limit} more]"


def _too_deep(text: str, value: Any) -> bool:
    """Whether ``value`` (whose JSON is ``text``) nests lists and dicts deeper than the host
    takes (it would refuse it); counting brackets first keeps common values cheap."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, tuple, dict)):
            if depth > MAX_DEPTH:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _tail(text: str, limit: int) -> str:
    """The end of ``text`` (a traceback ends with the error), saying how much was cut."""
    if len(text) <= limit:
        return text
    return f"[... {len(text) - limit} characters cut]\n" + text[-limit:]


def _flush() -> None:
    """Output still in Python's buffers (a print without newline, bytes written to
    ``sys.stdout.buffer``) belongs to this run."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):  # a stream the code replaced or closed
            stream.flush()


def run(code: str, tools: str, limit: int) -> str:
    """Run ``code``; JSON with ``value`` (the last expression) or ``error`` (the traceback)."""
    global _runs
    _runs += 1
    filename = f"<run {_runs}>"
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    for tool in json.loads(tools):
        _namespace[tool["name"]] = _tool_function(tool["name"], tool["params"], tool["doc"])
    try:
        value = eval_code(code, _namespace, filename=filename)
    except BaseException as exc:  # SystemExit and KeyboardInterrupt end the run like any error
        return json.dumps({"error": _tail(_user_traceback(exc), limit)})
    finally:
        _flush()
    try:
        return json.dumps({"value": _jsonable(value, limit)})
    except BaseException as exc:  # a __repr__ that fails
        return json.dumps({"error": _tail(_user_traceback(exc), limit)})


os.environ.pop("_", None)  # Pyodide's record of the script that started it: host detail
