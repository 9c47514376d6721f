"""What ReAct, CodeAct and ProgramOfThought check and build alike."""

from __future__ import annotations

import pytest

from lmbench.errors import ConfigError, SignatureError
from lmbench.modules.loop_setup import (
    check_added_fields,
    check_max_iters,
    quoted_outputs,
    trajectory_outputs_signature,
)
from lmbench.signatures.signature import ensure_signature


def test_a_field_named_like_an_added_one_is_refused_by_name() -> None:
    signature = ensure_signature("question, trajectory -> answer")
    with pytest.raises(SignatureError, match=r"Agent adds fields named \['trajectory'\].*rename"):
        check_added_fields("Agent", signature, ("trajectory", "reasoning"))


def test_a_signature_without_clashes_passes() -> None:
    check_added_fields("Agent", ensure_signature("question -> answer"), ("trajectory",))


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3", None])
def test_max_iters_must_be_a_whole_number_of_at_least_one(bad: object) -> None:
    with pytest.raises(ConfigError, match=rf"max_iters={bad!r}: Agent needs at least one run"):
        check_max_iters("Agent", bad, "run")


def test_max_iters_comes_back_as_given() -> None:
    assert check_max_iters("Agent", 4, "step") == 4


def test_outputs_are_quoted_in_order() -> None:
    assert quoted_outputs(ensure_signature("question -> answer, source")) == "`answer`, `source`"


def test_the_outputs_signature_reads_the_trajectory_and_writes_the_outputs() -> None:
    signature = ensure_signature("question: str, context: str -> answer: int")
    built = trajectory_outputs_signature(signature, "the steps", "what was tried")
    assert list(built.input_fields) == ["question", "context", "trajectory"]
    assert list(built.output_fields) == ["answer"]
    assert built.input_fields["trajectory"].desc == "the steps"
    assert built.output_fields["answer"] is signature.output_fields["answer"]
    assert built.instructions.endswith(
        "The trajectory records what was tried. Write the outputs from it."
    )
    assert built.name == signature.name
