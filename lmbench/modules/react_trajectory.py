"""ReAct's record of a run: its steps, the trajectory text the model reads, tool results as
text, and the state of a run (what is hidden from the model, the notices, why it stopped)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from lmbench.errors import ToolError
from lmbench.modules.events import Notice
from lmbench.tools import Tool

__all__ = [
    "ReActStep",
    "Run",
    "StopReason",
    "ToolRun",
    "format_trajectory",
    "observation_text",
    "step_text",
    "trajectory_text",
]

StopReason = Literal["finish", "max_iters", "stagnation"]

# One encoder for arguments and results: ``json.dumps`` with options builds one per call.
_as_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


@dataclass(frozen=True)
class ReActStep:
    """One step of the loop: what the model thought, the tool it called, what came back.

    ``error`` is True when the observation is a tool's error message; ``repeat_of`` is the
    number (from 1) of the earlier step this call repeated, when it was not run again.
    """

    thought: str
    tool_name: str
    tool_args: dict[str, Any] = field(default_factory=dict)
    observation: str = ""
    error: bool = False
    repeat_of: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "thought": self.thought,
            "tool_name": self.tool_name,
            "tool_args": self.tool_args,
            "observation": self.observation,
            "error": self.error,
            "repeat_of": self.repeat_of,
        }


@dataclass
class Run:
    """The state of one run: its steps, how many of the oldest the model no longer sees,
    the notices given, and why it stopped."""

    steps: list[ReActStep] = field(default_factory=list)
    hidden: int = 0
    repeats: int = 0
    notices: list[Notice] = field(default_factory=list)
    stop_reason: StopReason = "max_iters"

    blocks: list[str] = field(default_factory=list)  # each step as the model reads it

    def shown(self) -> str:
        """The trajectory as the model sees it: the steps not hidden (each formatted once)."""
        blocks = self.blocks
        for number in range(len(blocks) + 1, len(self.steps) + 1):
            blocks.append(step_text(number, self.steps[number - 1]))
        return trajectory_text(blocks[self.hidden :], self.hidden + 1)


class ToolRun:
    """A step: run the named tool of ``tools``; its outcome is ``(observation, error)``, a
    tool's failure (or an unknown name) as text."""

    __slots__ = ("args", "name", "tools")

    def __init__(self, tools: Mapping[str, Tool], name: str, args: dict[str, Any]) -> None:
        self.tools, self.name, self.args = tools, name, args

    def run(self) -> tuple[str, bool]:
        tool = self.tools.get(self.name)
        if tool is None:
            return self._unknown()
        try:
            return observation_text(tool(**self.args)), False
        except ToolError as exc:
            return f"Error: {exc}", True

    async def arun(self) -> tuple[str, bool]:
        tool = self.tools.get(self.name)
        if tool is None:
            return self._unknown()
        try:
            return observation_text(await tool.acall(**self.args)), False
        except ToolError as exc:
            return f"Error: {exc}", True

    def _unknown(self) -> tuple[str, bool]:
        return (
            f"Error: there is no tool named {self.name!r}; the tools are {list(self.tools)}",
            True,
        )


def format_trajectory(steps: Sequence[ReActStep], first: int = 1) -> str:
    """The steps as the model reads them in the ``trajectory`` field; ``first`` is the number
    of the first one (the ones before it are hidden to fit the context)."""
    return trajectory_text([step_text(n, s) for n, s in enumerate(steps, first)], first)


def step_text(number: int, step: ReActStep) -> str:
    return (
        f"Step {number}\n"
        f"thought: {step.thought}\n"
        f"tool: {step.tool_name}\n"
        f"arguments: {_as_json(step.tool_args)}\n"
        f"observation: {step.observation}"
    )


def trajectory_text(blocks: Sequence[str], first: int) -> str:
    if first == 1:
        return "\n\n".join(blocks) if blocks else "(no steps yet)"
    return "\n\n".join([f"(steps 1-{first - 1} are hidden to fit the context)", *blocks])


def observation_text(result: Any) -> str:
    """A tool's result as prompt text: strings as they are, anything else as JSON."""
    if isinstance(result, str):
        return result
    if type(result) is int:
        return str(result)
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    return _as_json(result)
