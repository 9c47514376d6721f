"""Built-in metrics: normalised exact match, token F1, contains, numeric closeness, LM judge."""

from __future__ import annotations

import pytest

from lmbench import metrics
from lmbench.errors import AdapterParseError, ConfigError
from lmbench.lm.scripted import ScriptedLM
from lmbench.observe import MemoryCollector
from lmbench.primitives.example import Example
from lmbench.primitives.prediction import Prediction
from lmbench.settings import context


def example(**fields: object) -> Example:
    return Example(question="q", **fields).with_inputs("question")


def test_exact_match_ignores_case_punctuation_articles_and_spacing() -> None:
    assert (
        metrics.exact_match(example(answer="Paris"), Prediction({"answer": "  the PARIS. "})) == 1.0
    )
    assert metrics.exact_match(example(answer="Paris"), Prediction({"answer": "Lyon"})) == 0.0
    assert metrics.exact_match(example(answer="42"), Prediction({"answer": 42})) == 1.0
    assert metrics.exact_match(example(answer="x"), Prediction({"answer": None})) == 0.0


def test_token_f1_gives_partial_credit() -> None:
    score = metrics.f1(example(answer="the big red dog"), {"answer": "a red dog barked"})
    # tokens after normalisation: [big, red, dog] vs [red, dog, barked]: P = R = 2/3
    assert score == pytest.approx(2 / 3)
    assert metrics.f1(example(answer="cat"), {"answer": "dog"}) == 0.0


def test_contains_and_numeric_closeness() -> None:
    assert metrics.contains(example(answer="Paris"), {"answer": "It is Paris, in France"}) == 1.0
    assert metrics.contains(example(answer="Rome"), {"answer": "Paris"}) == 0.0
    assert metrics.numeric(example(answer=1000), {"answer": "about 1,000 people"}) == 1.0
    assert metrics.numeric(example(answer=1000), {"answer": "1040"}) == 0.0
    assert metrics.numeric.within(rel=0.05)(example(answer=1000), {"answer": "1040"}) == 1.0
    assert metrics.numeric(example(answer=3), {"answer": "no number"}) == 0.0
    with pytest.raises(ConfigError, match="tolerances must be >= 0"):
        metrics.numeric.within(rel=-1)


def test_several_shared_fields_average_and_on_picks_a_label_column() -> None:
    both = metrics.exact_match(example(a="x", b="y"), {"a": "x", "b": "z"})
    assert both == 0.5
    gold = metrics.exact_match.on("answer", expected="gold")
    assert gold(example(gold="Paris"), {"answer": "paris"}) == 1.0
    assert repr(gold) == "metrics.exact_match.on('answer', expected='gold')"


def test_a_metric_without_a_matching_label_says_which_fields_there_are() -> None:
    with pytest.raises(ConfigError) as info:
        metrics.exact_match(example(gold="Paris"), {"answer": "Paris"})
    message = str(info.value)
    assert "['gold']" in message and "['answer']" in message and ".on(" in message
    with pytest.raises(ConfigError, match="no label 'label'"):
        metrics.f1.on("answer", expected="label")(example(gold="x"), {"answer": "x"})


def test_metrics_by_name() -> None:
    assert metrics.resolve_metric("exact_match") is metrics.exact_match
    assert metrics.resolve_metric("f1") is metrics.f1
    with pytest.raises(ConfigError, match="unknown metric 'accuracy'"):
        metrics.resolve_metric("accuracy")
    with pytest.raises(ConfigError, match="not callable"):
        metrics.resolve_metric(3)


def test_judge_scores_with_an_lm_whose_calls_are_recorded_and_priced() -> None:
    lm = ScriptedLM(["[[ ## score ## ]]\n0.75\n\n[[ ## completed ## ]]"])
    judge = metrics.judge("Is the answer right?", lm=lm)
    memory = MemoryCollector()
    with context(history=memory):
        score = judge(example(answer="Paris"), Prediction({"answer": "Paris, France"}))
    assert score == 0.75
    prompt = lm.last_prompt
    assert "Is the answer right?" in prompt
    assert "answer: Paris, France" in prompt and "answer: Paris" in prompt
    (entry,) = [e for e in memory.entries() if e.kind == "lm"]
    assert entry.module == "Judge" and entry.cost_known and entry.cost_usd == 0.0


def test_judge_with_a_bool_signature_and_a_verdict_that_is_not_a_score() -> None:
    lm = ScriptedLM(
        [
            "[[ ## correct ## ]]\nTrue\n\n[[ ## completed ## ]]",
            "[[ ## correct ## ]]\nmaybe\n\n[[ ## completed ## ]]",
        ]
    )
    judge = metrics.judge("question, answer -> correct: bool", lm=lm, adapter="chat")
    assert judge(example(), {"answer": "x"}) == 1.0
    with pytest.raises(AdapterParseError, match="correct"):
        judge(example(), {"answer": "x"})
    with pytest.raises(ConfigError, match="neither example fields nor outputs"):
        metrics.judge("context -> ok: bool", lm=lm)(example(), {"answer": "x"})
