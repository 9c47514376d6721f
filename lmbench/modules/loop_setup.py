"""What the looping modules (``ReAct``, ``CodeAct``, ``ProgramOfThought``) check and build
alike: the fields they add, their step count, and the signature that writes the outputs
from a trajectory."""

from __future__ import annotations

from collections.abc import Iterable

from lmbench.errors import ConfigError, SignatureError
from lmbench.signatures.fields import FieldSpec
from lmbench.signatures.signature import Signature

__all__ = [
    "check_added_fields",
    "check_max_iters",
    "quoted_outputs",
    "trajectory_outputs_signature",
]


def check_added_fields(module: str, signature: Signature, added: Iterable[str]) -> None:
    """Refuse a signature with a field named like one the module adds to its inner steps."""
    clashes = [name for name in added if name in signature.fields]
    if clashes:
        raise SignatureError(
            f"{module} adds fields named {clashes} to {signature}; rename those fields"
        )


def check_max_iters(module: str, max_iters: object, unit: str) -> int:
    """``max_iters`` as given, once it is a whole number of at least one ``unit``."""
    if not isinstance(max_iters, int) or max_iters < 1:
        raise ConfigError(f"max_iters={max_iters!r}: {module} needs at least one {unit}")
    return max_iters


def quoted_outputs(signature: Signature) -> str:
    """The signature's output names as the instructions quote them: "`a`, `b`"."""
    return ", ".join(f"`{name}`" for name in signature.output_fields)


def trajectory_outputs_signature(signature: Signature, trajectory: str, record: str) -> Signature:
    """The last step's signature: ``signature``'s inputs and a ``trajectory`` input (described
    as ``trajectory``) in, its outputs out; ``record`` says what the trajectory holds."""
    specs = [
        *signature.input_fields.values(),
        FieldSpec("trajectory", "input", str, desc=trajectory),
        *signature.output_fields.values(),
    ]
    instructions = (
        f"{signature.instructions}\n\nThe trajectory records {record}. Write the outputs from it."
    )
    return Signature(specs, instructions, name=signature.name)
