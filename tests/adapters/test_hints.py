"""How output fields are described in the prompt: description and value hint read as one note."""

from __future__ import annotations

from lmbench.modules import ChainOfThought


def test_a_sentence_description_is_followed_by_its_hint_without_a_stray_stop() -> None:
    prompt = ChainOfThought("question -> answer: int", adapter="json").render(question="q")
    assert "before giving the outputs; a string" in prompt
    assert ".;" not in prompt
    chat = ChainOfThought("question -> answer: int", adapter="chat").render(question="q")
    assert "before giving the outputs.\n" in chat  # no hint in the marker format: kept whole
