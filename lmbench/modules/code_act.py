"""``CodeAct``: an agent whose actions are Python code calling the given tools in the sandbox.

::

    def temperature(city: str) -> float:
        '''The current temperature of a city, in degrees Celsius.'''
        ...

    agent = CodeAct("question -> answer: float", tools=[temperature], max_iters=5)
    pred = agent(question="How much warmer is Paris than Oslo?")
    pred.answer
    pred.trajectory      # [CodeRun(code, result, thought), ...]; result.tool_calls per step

At each step the model reads the inputs and the steps so far (each thought, code, and what it
printed or raised) and writes a thought, the next code and whether it is finished. The code
runs in the sandbox, where each tool is a Python function: a call comes back to this process,
its arguments are validated like any ``Tool``'s and the tool runs here. Variables persist from
step to step within one call. The loop ends when the model says it is finished (after running
the code it gave with it) or after ``max_iters`` steps; a ``ChainOfThought`` then writes the
signature's outputs from the inputs and the trajectory. Failed code is an observation the model
can fix, not an error.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from lmbench.modules.base import Module
from lmbench.modules.chain_of_thought import ChainOfThought
from lmbench.modules.code_runs import (
    SANDBOX_RULES,
    CodeRun,
    extract_code,
    format_runs,
    prepare_namespace,
    run_code,
)
from lmbench.modules.events import StepStarted
from lmbench.modules.inputs import check_inputs
from lmbench.modules.loop_setup import (
    check_added_fields,
    check_max_iters,
    quoted_outputs,
    trajectory_outputs_signature,
)
from lmbench.modules.predict import Predict
from lmbench.modules.running import report
from lmbench.primitives.prediction import Prediction
from lmbench.signatures.fields import FieldSpec
from lmbench.signatures.signature import Signature, ensure_signature
from lmbench.tools import Tool

if TYPE_CHECKING:
    from lmbench.sandbox import Sandbox

__all__ = ["CodeAct"]

_ADDED_FIELDS = ("trajectory", "next_thought", "next_code", "finished")


class CodeAct(Module):
    """A code-writing, tool-using loop over a signature; see the module docstring.

    ``tools`` are ``Tool`` objects or plain functions; their names must be Python identifiers.
    ``sandbox`` is a ``Sandbox`` to use (reset before each call) or None for the module's own.
    Other keywords (``lm``, ``adapter``, ``config``...) go to the inner predictors. The
    prediction has the signature's outputs (and the extraction's ``reasoning``), ``trajectory``
    (the list of ``CodeRun``) and ``finished`` (False when ``max_iters`` ended the loop).
    """

    def __init__(
        self,
        signature: Signature | str,
        tools: Sequence[Tool | Callable[..., Any]],
        max_iters: int = 5,
        *,
        sandbox: Sandbox | None = None,
        **predict_kwargs: Any,
    ) -> None:
        self.signature = ensure_signature(signature)
        check_added_fields("CodeAct", self.signature, (*_ADDED_FIELDS, "reasoning"))
        self.max_iters = check_max_iters("CodeAct", max_iters, "step")
        from lmbench.sandbox.sandbox import tool_table

        self.tools = tool_table(tools)
        from lmbench.sandbox.pool import SandboxPool  # the sandbox loads when a module needs it

        self.sandboxes = SandboxPool(sandbox)
        self.act = Predict(self._step_signature(), **predict_kwargs)
        self.extract = ChainOfThought(self._extract_signature(), **predict_kwargs)

    def _step_signature(self) -> Signature:
        outputs = quoted_outputs(self.signature)
        catalogue = "\n".join(
            f"- {tool.signature_text()}: {tool.description}" for tool in self.tools.values()
        )
        instructions = (
            f"{self.signature.instructions}\n\n"
            f"Work towards the outputs {outputs} by writing Python code, one step at a time. At "
            "each step you see the inputs and the steps so far: each thought, its code and what "
            "running it printed or raised. Write your next thought and the next code; print what "
            "you need to see. Variables persist from one step to the next. Once the steps hold "
            "what the outputs need, set `finished` to true (the code may then be empty). "
            f"{SANDBOX_RULES}\n\n"
            "These functions are defined in the sandbox (they return JSON data and raise "
            f"ToolError when they fail):\n{catalogue or '(none)'}"
        )
        specs = [
            *self.signature.input_fields.values(),
            FieldSpec("trajectory", "input", str, desc="earlier steps and what they gave"),
            FieldSpec("next_thought", "output", str, desc="reasoning about what to do next"),
            FieldSpec("next_code", "output", str, desc="Python code to run next"),
            FieldSpec("finished", "output", bool, desc="true once the outputs can be written"),
        ]
        return Signature(specs, instructions, name=f"{self.signature.name}CodeStep")

    def _extract_signature(self) -> Signature:
        return trajectory_outputs_signature(
            self.signature,
            "the steps taken and what they gave",
            "the code run with tools for these inputs, and its results",
        )

    def forward(self, **inputs: Any) -> Prediction:
        inputs = check_inputs(self.signature, inputs)
        steps: list[CodeRun] = []
        finished = False
        tools = list(self.tools.values())
        name = type(self).__name__
        with self.sandboxes.lease() as sandbox:
            prepare_namespace(sandbox, inputs)
            for number in range(1, self.max_iters + 1):
                report(StepStarted(name, number, self.max_iters, "step"))
                step = self.act(**inputs, trajectory=format_runs(steps))
                code = extract_code(step.next_code)
                finished = bool(step.finished)
                if code.strip() or not finished:
                    steps.append(
                        run_code(
                            sandbox,
                            code,
                            thought=step.next_thought,
                            tools=tools,
                            inputs=inputs,
                            module=name,
                            step=number,
                        )
                    )
                if finished:
                    break
        report(StepStarted(name, len(steps) + 1, None, "extract the outputs"))
        extracted = self.extract(**inputs, trajectory=format_runs(steps))
        prediction = Prediction.from_inner(extracted, inputs=inputs)
        prediction.trajectory = steps
        prediction.finished = finished
        return prediction

    def __repr__(self) -> str:
        return f"CodeAct({self.signature}, tools={list(self.tools)}, max_iters={self.max_iters})"
