"""Reused parses: an answer seen before is not scanned again, and nothing shared can change."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from lmbench.adapters import ChatAdapter, JSONAdapter, TwoStepAdapter, XMLAdapter, parse_memo
from lmbench.adapters.results import ParseResult
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules import Predict
from lmbench.signatures import Signature

ANSWER = "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"


class CountingChat(ChatAdapter):
    """A ChatAdapter that counts how often it really parses."""

    def __init__(self) -> None:
        self.parses = 0

    def parse_with_repairs(self, signature: Signature, text: str) -> ParseResult:
        self.parses += 1
        return super().parse_with_repairs(signature, text)


@pytest.fixture(autouse=True)
def empty_table() -> Iterator[None]:
    parse_memo.forget_parses()
    yield
    parse_memo.forget_parses()


def test_a_repeated_answer_is_parsed_once_and_each_caller_gets_its_own_values() -> None:
    adapter = CountingChat()
    qa = Predict("question -> answer", lm=ScriptedLM([ANSWER], repeat=True), adapter=adapter)
    first = qa(question="q")
    first.completions[0]["answer"] = "changed"
    second = qa(question="q")
    assert (first.answer, second.answer) == ("4", "4")
    assert second.completions == [{"answer": "4"}]
    assert adapter.parses == 1


def test_another_answer_or_signature_is_parsed_anew() -> None:
    adapter = CountingChat()
    lm = ScriptedLM([ANSWER, ANSWER.replace("4", "5"), ANSWER], repeat=True)
    qa = Predict("question -> answer", lm=lm, adapter=adapter)
    typed = Predict("question -> answer: int", lm=lm, adapter=adapter)
    assert [qa(question="q").answer, qa(question="q").answer] == ["4", "5"]
    assert typed(question="q").answer == 4
    assert adapter.parses == 3


def test_repairs_are_reported_and_logged_each_time(caplog: pytest.LogCaptureFixture) -> None:
    adapter = CountingChat()
    loose = "Sure!\n[[ ## answer ## ]]\n4"
    qa = Predict("question -> answer", lm=ScriptedLM([loose], repeat=True), adapter=adapter)
    with caplog.at_level(logging.DEBUG, logger="lmbench.adapters"):
        first = qa(question="q")
        logged_once = len(caplog.records)
        second = qa(question="q")
    rules = ["leading_text", "missing_completed"]
    assert [r.rule for r in first.repairs] == [r.rule for r in second.repairs] == rules
    assert logged_once == 2 and len(caplog.records) == 4
    second.repairs.clear()
    assert [r.rule for r in qa(question="q").repairs] == rules
    assert adapter.parses == 1


def test_values_that_could_be_changed_are_not_kept() -> None:
    adapter = CountingChat()
    answer = '[[ ## tags ## ]]\n["a", "b"]\n\n[[ ## completed ## ]]'
    lister = Predict(
        "question -> tags: list[str]", lm=ScriptedLM([answer], repeat=True), adapter=adapter
    )
    first = lister(question="q")
    first.tags.append("c")
    assert lister(question="q").tags == ["a", "b"]
    assert adapter.parses == 2


def test_failed_parses_are_not_kept() -> None:
    adapter = CountingChat()
    qa = Predict(
        "question -> answer: int", lm=ScriptedLM(["no markers here"], repeat=True), adapter=adapter
    )
    for _ in range(2):
        with pytest.raises(Exception, match="answer"):
            qa(question="q")
    assert adapter.parses == 2


def test_long_answers_are_not_kept_and_the_table_is_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adapter = CountingChat()
    signature = Signature("question -> answer")
    long_answer = ANSWER.replace("4", "x" * parse_memo.LONGEST)
    adapter._parse_text(signature, long_answer)
    adapter._parse_text(signature, long_answer)
    assert adapter.parses == 2

    monkeypatch.setattr(parse_memo, "KEPT", 3)
    answers = [ANSWER.replace("4", str(i)) for i in range(4)]
    for text in answers:
        adapter._parse_text(signature, text)
    assert len(parse_memo._parses) == 1  # emptied when full, then the fourth kept
    adapter._parse_text(signature, answers[3])
    assert adapter.parses == 6


def test_a_subclass_can_opt_out() -> None:
    class Configured(CountingChat):
        reuse_parses = False

    adapter = Configured()
    qa = Predict("question -> answer", lm=ScriptedLM([ANSWER], repeat=True), adapter=adapter)
    qa(question="q")
    qa(question="q")
    assert adapter.parses == 2


def test_which_adapters_reuse_parses() -> None:
    for adapter in (ChatAdapter, JSONAdapter, XMLAdapter):
        assert issubclass(adapter, parse_memo.ReusesParses)
    assert not issubclass(TwoStepAdapter, parse_memo.ReusesParses)  # it asks an LM to parse
