"""``ReAct``: reason, call a tool, observe, repeat; then answer from what was gathered.

::

    def lookup(city: str) -> str:
        '''The current temperature of a city, in degrees Celsius.'''
        return {"Paris": "21"}.get(city, "unknown")

    agent = ReAct("question -> answer: int", tools=[lookup], max_iters=4)
    pred = agent(question="How warm is it in Paris?")
    pred.answer          # 21
    pred.trajectory      # [ReActStep(thought=..., tool_name="lookup", tool_args={...}, ...), ...]

Each step is one ``Predict`` call on the signature's inputs plus the trajectory so far,
asking for a thought, a tool name and the tool's arguments (a JSON object). The tool runs
and its result (or its error, as text) becomes the step's observation. The model ends the
loop by choosing ``finish``; after ``max_iters`` steps the loop ends anyway. A
``ChainOfThought`` then produces the signature's outputs from the inputs and trajectory.
Errors of the LM or of parsing a step are raised, not turned into observations.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from lmbench.errors import ConfigError, SignatureError, ToolError
from lmbench.modules.base import Module
from lmbench.modules.chain_of_thought import ChainOfThought
from lmbench.modules.inputs import check_inputs
from lmbench.modules.predict import Predict
from lmbench.primitives.prediction import Prediction
from lmbench.signatures.fields import FieldSpec
from lmbench.signatures.signature import Signature, ensure_signature
from lmbench.tools import Tool

__all__ = ["FINISH", "ReAct", "ReActStep"]

FINISH = "finish"
_ADDED_FIELDS = ("trajectory", "next_thought", "next_tool_name", "next_tool_args")


@dataclass(frozen=True)
class ReActStep:
    """One step of the loop: what the model thought, the tool it called, what came back.

    ``error`` is True when the observation is a tool's error message.
    """

    thought: str
    tool_name: str
    tool_args: dict[str, Any] = field(default_factory=dict)
    observation: str = ""
    error: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "thought": self.thought,
            "tool_name": self.tool_name,
            "tool_args": self.tool_args,
            "observation": self.observation,
            "error": self.error,
        }


class ReAct(Module):
    """A tool-using loop over a signature; see the module docstring.

    ``tools`` are ``Tool`` objects or plain functions (wrapped with ``Tool``); other keywords
    (``lm``, ``adapter``, ``config``...) go to the inner predictors. The prediction
    has the signature's outputs (and the extraction's ``reasoning``), ``trajectory`` (the list
    of ``ReActStep``) and ``finished`` (False when ``max_iters`` ended the loop).
    """

    def __init__(
        self,
        signature: Signature | str,
        tools: Sequence[Tool | Callable[..., Any]],
        *,
        max_iters: int = 5,
        callbacks: Sequence[Any] = (),
        **predict_kwargs: Any,
    ) -> None:
        self.signature = ensure_signature(signature)
        clashes = [name for name in (*_ADDED_FIELDS, "reasoning") if name in self.signature.fields]
        if clashes:
            raise SignatureError(
                f"ReAct adds fields named {clashes} to {self.signature}; rename those fields"
            )
        if max_iters < 1:
            raise ConfigError(f"max_iters={max_iters!r}: ReAct needs at least one step")
        self.max_iters = max_iters
        self.callbacks = tuple(callbacks)  # cover the steps, the tools and the extraction
        self.tools = _tool_table(tools)
        self.react = Predict(self._step_signature(), **predict_kwargs)
        self.extract = ChainOfThought(self._extract_signature(), **predict_kwargs)

    # -- signatures ----------------------------------------------------------------------------

    def _step_signature(self) -> Signature:
        outputs = ", ".join(f"`{name}`" for name in self.signature.output_fields)
        catalogue = "\n".join(
            f"- {tool.name}: {tool.description} Arguments (JSON schema): "
            f"{json.dumps(tool.parameters.get('properties', {}), ensure_ascii=False)}"
            for tool in self.tools.values()
        )
        instructions = (
            f"{self.signature.instructions}\n\n"
            f"Work towards the outputs {outputs} one step at a time. At each step you see the "
            "inputs and the trajectory so far: earlier thoughts, tool calls and what each call "
            "returned. Write your next thought, then pick one tool and give its arguments as a "
            f"JSON object. Once the trajectory holds what the outputs need, pick `{FINISH}` "
            "with arguments {}.\n\n"
            f"Tools:\n{catalogue}\n"
            f"- {FINISH}: ends the work, so the outputs can be written. Arguments: {{}}"
        )
        names = (*self.tools, FINISH)
        specs = [
            *self.signature.input_fields.values(),
            FieldSpec("trajectory", "input", str, desc="earlier steps and their observations"),
            FieldSpec("next_thought", "output", str, desc="reasoning about what to do next"),
            FieldSpec("next_tool_name", "output", Literal[names], desc="the tool to call"),  # type: ignore[valid-type]
            FieldSpec(
                "next_tool_args", "output", dict[str, Any], desc="the tool's arguments as JSON"
            ),
        ]
        return Signature(specs, instructions, name=f"{self.signature.name}Step")

    def _extract_signature(self) -> Signature:
        specs = [
            *self.signature.input_fields.values(),
            FieldSpec("trajectory", "input", str, desc="the steps taken and their observations"),
            *self.signature.output_fields.values(),
        ]
        instructions = (
            f"{self.signature.instructions}\n\n"
            "The trajectory records the work done with tools for these inputs. "
            "Write the outputs from it."
        )
        return Signature(specs, instructions, name=self.signature.name)

    # -- running -------------------------------------------------------------------------------

    def forward(self, **inputs: Any) -> Prediction:
        inputs = check_inputs(self.signature, inputs)
        steps: list[ReActStep] = []
        finished = False
        for _ in range(self.max_iters):
            step = self.react(**inputs, trajectory=format_trajectory(steps))
            name, args = step.next_tool_name, dict(step.next_tool_args or {})
            if name == FINISH:
                steps.append(ReActStep(step.next_thought, name, args, "Done."))
                finished = True
                break
            steps.append(self._run_tool(step.next_thought, name, args))
        extracted = self.extract(**inputs, trajectory=format_trajectory(steps))
        prediction = Prediction(
            extracted,
            completions=extracted.completions,
            signature=extracted.signature,
            inputs=inputs,
            adapter=extracted.adapter,
            repairs=extracted.repairs,
            attempts=extracted.attempts,
        )
        prediction.trajectory = steps
        prediction.finished = finished
        return prediction

    def _run_tool(self, thought: str, name: str, args: dict[str, Any]) -> ReActStep:
        try:
            result = self.tools[name](**args)
        except ToolError as exc:
            return ReActStep(thought, name, args, f"Error: {exc}", error=True)
        return ReActStep(thought, name, args, observation_text(result))

    def __repr__(self) -> str:
        return f"ReAct({self.signature}, tools={list(self.tools)}, max_iters={self.max_iters})"


def _tool_table(tools: Sequence[Tool | Callable[..., Any]]) -> dict[str, Tool]:
    table: dict[str, Tool] = {}
    for item in tools:
        tool = item if isinstance(item, Tool) else Tool(item)
        if tool.name == FINISH:
            raise ConfigError(
                f"a tool is named {FINISH!r}, which ReAct uses to end the loop; rename it "
                "with Tool(func, name=...)"
            )
        if tool.name in table:
            raise ConfigError(
                f"two tools are named {tool.name!r}; give one another name with Tool(func, name=...)"
            )
        table[tool.name] = tool
    return table


def format_trajectory(steps: Sequence[ReActStep]) -> str:
    """The steps as the model reads them in the ``trajectory`` field."""
    if not steps:
        return "(no steps yet)"
    blocks = []
    for number, step in enumerate(steps, 1):
        blocks.append(
            f"Step {number}\n"
            f"thought: {step.thought}\n"
            f"tool: {step.tool_name}\n"
            f"arguments: {json.dumps(step.tool_args, ensure_ascii=False, default=str)}\n"
            f"observation: {step.observation}"
        )
    return "\n\n".join(blocks)


def observation_text(result: Any) -> str:
    """A tool's result as prompt text: strings as they are, anything else as JSON."""
    if isinstance(result, str):
        return result
    if isinstance(result, BaseModel):
        return result.model_dump_json()
    return json.dumps(result, ensure_ascii=False, default=str)
