"""What ProgramOfThought and CodeAct share: the code a model wrote, taken out of its Markdown
fences; the inputs set as Python variables before the code runs; one run, recorded."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lmbench.errors import SandboxError
from lmbench.modules.events import SandboxRun, ToolFinished, ToolStarted
from lmbench.modules.running import report

if TYPE_CHECKING:
    from lmbench.sandbox import Sandbox, SandboxResult, SandboxToolCall
    from lmbench.tools import Tool

__all__ = [
    "SANDBOX_RULES",
    "CodeRun",
    "extract_code",
    "format_runs",
    "prepare_namespace",
    "run_code",
]

# A fenced block: its language and its text, up to a closing fence line (or the end).
_FENCE = re.compile(
    r"```[ \t]*(?P<lang>[\w+-]*)[^\n`]*\n(?P<code>.*?)(?:^[ \t]*```[ \t]*$|\Z)",
    re.DOTALL | re.MULTILINE,
)
_PYTHON = frozenset({"python", "python3", "py"})
SANDBOX_RULES = (
    "The code runs in a sandbox: Python's standard library only, no files, no network, no "
    "package installs. The inputs are already set as Python variables of the same names."
)


@dataclass(frozen=True)
class CodeRun:
    """Code and what running it gave. ``thought`` is the model's reasoning before it (CodeAct)."""

    code: str
    result: SandboxResult
    thought: str = ""

    @property
    def ok(self) -> bool:
        return self.result.ok

    def to_dict(self) -> dict[str, Any]:
        return {
            "thought": self.thought,
            "code": self.code,
            "stdout": self.result.stdout,
            "value": self.result.value,
            "error": self.result.error,
            "timed_out": self.result.timed_out,
        }


def extract_code(text: str) -> str:
    """The Python in a model's answer: its ```python blocks; else its unlabelled blocks; else
    the text. With a block marked Python, unlabelled ones are something else (the output the
    model expects, an example), never code to run."""
    blocks = [(m.group("lang").lower(), m.group("code")) for m in _FENCE.finditer(text or "")]
    python = [code for lang, code in blocks if lang in _PYTHON]
    chosen = python or [code for lang, code in blocks if not lang]
    if not blocks:
        return (text or "").strip("\n")
    return "\n\n".join(code.strip("\n") for code in chosen).strip("\n")


def prepare_namespace(sandbox: Sandbox, inputs: Mapping[str, Any]) -> None:
    """A fresh interpreter holding each input as a variable (JSON values as such, others as
    text)."""
    sandbox.reset()
    _set_inputs(sandbox, inputs)


def _set_inputs(sandbox: Sandbox, inputs: Mapping[str, Any]) -> None:
    lines = ["import json as _json"]
    for name, value in inputs.items():
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError):
            text = json.dumps(str(value), ensure_ascii=False)
        lines.append(f"{name} = _json.loads({text!r})")
    lines.append("del _json")
    result = sandbox.run("\n".join(lines))
    if result.error is not None:  # cannot happen with JSON values; say so if it does
        raise SandboxError(f"setting the inputs in the sandbox failed: {result.error}")


def run_code(
    sandbox: Sandbox,
    code: str,
    *,
    thought: str = "",
    tools: Sequence[Tool] = (),
    inputs: Mapping[str, Any] | None = None,
    module: str = "Sandbox",
    step: int = 1,
) -> CodeRun:
    """Run ``code`` (empty code is an error the model can fix) and record it; a stream in
    progress hears of it (``SandboxRun`` events from ``module``, and ``ToolStarted`` /
    ``ToolFinished`` for each tool the code calls in step ``step``). When the run had to
    restart the sandbox (a timeout, memory), ``inputs`` are set again for the next code."""
    if not code.strip():
        from lmbench.sandbox import SandboxResult

        return CodeRun(code, SandboxResult(error="the answer held no Python code"), thought)
    report(SandboxRun(module, "start", code))
    result = sandbox.run(code, tools=tools, on_tool=_tool_reporter(module, step))
    if result.restarted and inputs is not None:
        _set_inputs(sandbox, inputs)
    report(SandboxRun(module, "end", code, result.stdout, result.error, result.timed_out))
    return CodeRun(code, result, thought)


def _tool_reporter(module: str, step: int) -> Callable[[SandboxToolCall, bool], None]:
    def tell(call: SandboxToolCall, done: bool) -> None:
        if not done:
            report(ToolStarted(module, call.name, call.arguments, step))
        elif call.error is not None:
            report(ToolFinished(module, call.name, call.error, True, step))
        else:
            report(
                ToolFinished(module, call.name, json.dumps(call.result, default=str), False, step)
            )

    return tell


def format_runs(runs: Sequence[CodeRun], limit: int = 4000) -> str:
    """Runs as a model reads them: each thought, code and result."""
    if not runs:
        return "(no steps yet)"
    blocks = []
    for number, run in enumerate(runs, 1):
        thought = f"thought: {run.thought}\n" if run.thought else ""
        blocks.append(
            f"Step {number}\n{thought}code:\n```python\n{run.code}\n```\n"
            f"result:\n{run.result.observation(limit)}"
        )
    return "\n\n".join(blocks)
