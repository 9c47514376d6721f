"""``ProgramOfThought``: the model writes Python, the sandbox runs it, the output answers.

::

    pot = ProgramOfThought("question -> answer: int", max_iters=3)
    pred = pot(question="How many days from 2024-02-27 to 2024-03-02?")
    pred.answer          # 4
    pred.code            # the program that ran
    pred.code_output     # what it printed (or its value)
    pred.code_runs       # every attempt: CodeRun(code, result), failed ones first

Three ``ChainOfThought`` steps: one writes code for the inputs (set in the sandbox as variables
of the same names); when the code fails, another reads the code and its traceback and writes a
fix, up to ``max_iters`` runs in all; then one writes the signature's outputs from the inputs,
the code and its output. When every run fails, ``CodeFailed`` is raised with the runs.

``sandbox``: a ``Sandbox`` to run the code in (the module resets it before each call), or None
for the module's own (started on first use, one more per overlapping call).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lmbench.display import printable
from lmbench.errors import CodeFailed
from lmbench.modules.base import Module
from lmbench.modules.chain_of_thought import ChainOfThought
from lmbench.modules.code_runs import (
    SANDBOX_RULES,
    CodeRun,
    extract_code,
    prepare_namespace,
    run_code,
)
from lmbench.modules.events import StepStarted
from lmbench.modules.inputs import check_inputs
from lmbench.modules.loop_setup import check_added_fields, check_max_iters, quoted_outputs
from lmbench.modules.running import report
from lmbench.primitives.prediction import Prediction
from lmbench.signatures.fields import FieldSpec
from lmbench.signatures.signature import Signature, ensure_signature

if TYPE_CHECKING:
    from lmbench.sandbox import Sandbox

__all__ = ["ProgramOfThought"]

_ADDED_FIELDS = ("generated_code", "previous_code", "error", "final_code", "code_output")


class ProgramOfThought(Module):
    """Answers by writing and running Python; see the module docstring.

    Other keywords (``lm``, ``adapter``, ``config``...) go to the inner predictors. The
    prediction has the signature's outputs (and the answer step's ``reasoning``), ``code``,
    ``code_output`` and ``code_runs``.
    """

    def __init__(
        self,
        signature: Signature | str,
        max_iters: int = 3,
        sandbox: Sandbox | None = None,
        **predict_kwargs: Any,
    ) -> None:
        self.signature = ensure_signature(signature)
        check_added_fields("ProgramOfThought", self.signature, (*_ADDED_FIELDS, "reasoning"))
        self.max_iters = check_max_iters("ProgramOfThought", max_iters, "run")
        from lmbench.sandbox.pool import SandboxPool  # the sandbox loads when a module needs it

        self.sandboxes = SandboxPool(sandbox)
        inputs = list(self.signature.input_fields.values())
        code = FieldSpec(
            "generated_code", "output", str, desc="Python code that prints what the outputs need"
        )
        outputs = quoted_outputs(self.signature)
        task = f"{self.signature.instructions}\n\n" if self.signature.instructions else ""
        self.generate = ChainOfThought(
            Signature(
                [*inputs, code],
                f"{task}Write Python code that computes what the outputs {outputs} need and "
                f"prints it. {SANDBOX_RULES}",
                name=f"{self.signature.name}Code",
            ),
            **predict_kwargs,
        )
        self.regenerate = ChainOfThought(
            Signature(
                [
                    *inputs,
                    FieldSpec("previous_code", "input", str, desc="code that failed"),
                    FieldSpec("error", "input", str, desc="what running it gave"),
                    code,
                ],
                f"{task}The previous code, written to compute what the outputs {outputs} need, "
                f"failed with the error shown. Write corrected code that prints it. "
                f"{SANDBOX_RULES}",
                name=f"{self.signature.name}CodeFix",
            ),
            **predict_kwargs,
        )
        self.answer = ChainOfThought(
            Signature(
                [
                    *inputs,
                    FieldSpec("final_code", "input", str, desc="the code that was run"),
                    FieldSpec("code_output", "input", str, desc="what running it gave"),
                    *self.signature.output_fields.values(),
                ],
                f"{task}Code was written and run for these inputs; its output is shown. "
                "Write the outputs from it.",
                name=self.signature.name,
            ),
            **predict_kwargs,
        )

    def forward(self, **inputs: Any) -> Prediction:
        inputs = check_inputs(self.signature, inputs)
        runs: list[CodeRun] = []
        name = type(self).__name__
        with self.sandboxes.lease() as sandbox:
            prepare_namespace(sandbox, inputs)
            report(StepStarted(name, 1, None, "write code"))
            code = extract_code(self.generate(**inputs).generated_code)
            while True:
                run = run_code(sandbox, code, inputs=inputs, module=name, step=len(runs) + 1)
                runs.append(run)
                if runs[-1].ok or len(runs) == self.max_iters:
                    break
                report(StepStarted(name, len(runs) + 1, None, "fix the code"))
                fix = self.regenerate(
                    **inputs, previous_code=code, error=runs[-1].result.observation()
                )
                code = extract_code(fix.generated_code)
        last = runs[-1]
        if not last.ok:
            raise CodeFailed(
                f"ProgramOfThought: all {len(runs)} programs failed; the last one with:\n"
                f"{printable(last.result.error or '')}",
                runs=runs,
            )
        output = last.result.observation()
        report(StepStarted(name, len(runs) + 1, None, "write the outputs"))
        answered = self.answer(**inputs, final_code=last.code, code_output=output)
        prediction = Prediction.from_inner(answered, inputs=inputs)
        prediction.code = last.code
        prediction.code_output = output
        prediction.code_runs = runs
        return prediction

    def __repr__(self) -> str:
        return f"ProgramOfThought({self.signature}, max_iters={self.max_iters})"
