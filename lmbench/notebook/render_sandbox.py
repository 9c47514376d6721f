"""Sandbox runs as HTML and text: the code (where known), its output, value or error, and the
tools it called; used for ``SandboxResult`` and for the code steps of ProgramOfThought and
CodeAct predictions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from lmbench.notebook.html import badge, box, details, esc, kv_table, meta, pre, table

__all__ = [
    "code_steps_html",
    "code_steps_text",
    "result_html",
    "result_text",
    "run_body_html",
    "sandbox_html",
    "sandbox_text",
]


def _state(result: Any) -> str:
    if result.timed_out:
        return badge("timed out", "err")
    return badge("error", "err") if result.error is not None else badge("ok", "ok")


def run_body_html(result: Any, code: str | None = None) -> str:
    """One run: code, stdout, stderr, value or error, tool calls, duration."""
    parts = [f"{_state(result)} {meta(f'{result.duration * 1000:.1f} ms')}"]
    if code is not None:
        parts.append(f"<b>code</b>{pre(code)}")
    if result.stdout:
        parts.append(f"<b>stdout</b>{pre(result.stdout)}")
    if result.stderr:
        parts.append(f"<b>stderr</b>{pre(result.stderr)}")
    if result.error is not None:
        parts.append(f"<b>error</b>{pre(result.error)}")
    elif result.value is not None:
        parts.append(f"<b>value</b>{pre(json.dumps(result.value, ensure_ascii=False, indent=1))}")
    if result.truncated:
        parts.append(badge("output cut at max_output", "warn"))
    if result.tool_calls:
        rows = [
            [
                esc(call.name),
                pre(json.dumps(call.arguments, ensure_ascii=False, default=str)),
                pre(call.error) if call.error else pre(json.dumps(call.result, default=str)),
            ]
            for call in result.tool_calls
        ]
        parts.append(f"<b>tool calls</b>{table(['tool', 'arguments', 'result'], rows)}")
    return "".join(f"<div>{part}</div>" for part in parts)


def result_html(result: Any) -> str:
    return box("Sandbox run", run_body_html(result))


def result_text(result: Any) -> str:
    state = "timed out" if result.timed_out else ("error" if result.error else "ok")
    lines = [f"Sandbox run ({state}, {result.duration * 1000:.1f} ms)"]
    lines += [f"  stdout: {result.stdout!r}"] if result.stdout else []
    lines += [f"  stderr: {result.stderr!r}"] if result.stderr else []
    if result.error is not None:
        lines.append("  " + result.error.rstrip().replace("\n", "\n  "))
    elif result.value is not None:
        lines.append(f"  value: {result.value!r}")
    lines += [
        f"  tool {c.name}({c.arguments}) -> {c.error or c.result!r}" for c in result.tool_calls
    ]
    return "\n".join(lines)


def code_steps_html(steps: Sequence[Any], title: str) -> str:
    """Steps that each carry ``code`` and ``result`` (and maybe ``thought``), collapsed but the
    last, which is shown open."""
    blocks = []
    for number, step in enumerate(steps, 1):
        thought = getattr(step, "thought", "")
        body = (kv_table([("thought", pre(thought))]) if thought else "") + run_body_html(
            step.result, step.code
        )
        state = "failed" if step.result.error is not None else "ok"
        blocks.append(details(f"{title} {number} ({state})", body, open_=number == len(steps)))
    return "".join(blocks)


def code_steps_text(steps: Sequence[Any], title: str) -> str:
    lines = []
    for number, step in enumerate(steps, 1):
        lines.append(f"  {title} {number}: " + result_text(step.result).replace("\n", "\n  "))
        lines += [f"    | {line}" for line in step.code.splitlines()]
    return "\n".join(lines)


def sandbox_html(sandbox: Any) -> str:
    pid = sandbox.pid
    state = badge("closed", "warn") if pid is None else badge(f"running, pid {pid}", "ok")
    rows = [
        ("state", state),
        ("timeout", esc(f"{sandbox.timeout:g} s")),
        ("memory_mb", esc(sandbox.memory_mb)),
        ("max_output", esc(f"{sandbox.max_output} characters")),
        ("tools", esc(", ".join(sandbox.tools) or "none")),
        ("restarts", esc(sandbox.restarts)),
    ]
    return box("Sandbox · Pyodide under Deno", kv_table(rows))


def sandbox_text(sandbox: Any) -> str:
    return repr(sandbox)
