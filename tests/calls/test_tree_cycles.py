"""A call tree makes no reference cycle: dropping a prediction frees its tree at once, without
the garbage collector (nodes hold their parent weakly), and a node keeps its parent while the
tree is alive."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

import lmbench
from lmbench.calls import ModelCall, ModuleCall
from lmbench.lm import ScriptedLM

ANSWER = "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"


@pytest.fixture
def no_collector() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Twice(lmbench.Module):
    def __init__(self) -> None:
        self.qa = lmbench.Predict("question -> answer")

    def forward(self, question: str) -> lmbench.Prediction:
        self.qa(question=question)
        return self.qa(question=question)


def _alive() -> int:
    """How many call-tree nodes exist now."""
    return sum(isinstance(o, (ModuleCall, ModelCall)) for o in gc.get_objects())


@pytest.mark.parametrize("make", [lambda: lmbench.Predict("question -> answer"), Twice])
def test_a_dropped_tree_is_freed_at_once(make: object, no_collector: None) -> None:
    program = make()  # type: ignore[operator]
    before = _alive()
    with lmbench.context(lm=ScriptedLM([ANSWER], repeat=True), cache=False):
        prediction = program(question="2+2?")
    root = prediction.call
    leaf = root.children[-1]
    while not isinstance(leaf, ModelCall):
        leaf = leaf.children[-1]
    assert leaf.parent is not None and leaf.parent.parent in (None, root)
    assert _alive() > before
    del prediction, root, leaf
    assert _alive() == before
