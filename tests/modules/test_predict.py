from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import lmbench
from lmbench.adapters import FieldDelta
from lmbench.errors import ConfigError, InputError
from lmbench.lm import ScriptedLM
from lmbench.primitives import Prediction

ANSWER_4 = "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"


def test_call_returns_typed_fields_and_records_the_prompt() -> None:
    lm = ScriptedLM([ANSWER_4])
    qa = lmbench.Predict("question -> answer: int", lm=lm, adapter="chat")
    pred = qa(question="What is 2+2?")
    assert isinstance(pred, Prediction)
    assert pred.answer == 4
    assert pred.adapter == "ChatAdapter"
    assert pred.inputs == {"question": "What is 2+2?"}
    assert "[[ ## question ## ]]\nWhat is 2+2?" in lm.last_prompt
    assert [c.lm for c in pred.lm_calls] == [lm]
    assert pred.usage.input_tokens > 0 and pred.usage.output_tokens > 0


def test_missing_and_unexpected_inputs_fail_before_any_call() -> None:
    lm = ScriptedLM([ANSWER_4])
    qa = lmbench.Predict("question, context -> answer", lm=lm)
    with pytest.raises(
        InputError, match=r"missing input\(s\) \['context'\]; call it with context=\.\.\."
    ):
        qa(question="q")
    with pytest.raises(
        InputError, match=r"unexpected input\(s\) \['answer'\] \(\['answer'\] are output fields\)"
    ):
        qa(question="q", context="c", answer="a")
    assert lm.requests == []


def test_badly_typed_input_names_field_value_and_type() -> None:
    qa = lmbench.Predict("count: int -> answer", lm=ScriptedLM([ANSWER_4]))
    with pytest.raises(InputError) as info:
        qa(count="many")
    message = str(info.value)
    assert "input 'count'" in message and "expects int" in message and "'many'" in message


def test_demos_are_rendered_into_the_prompt() -> None:
    lm = ScriptedLM([ANSWER_4])
    qa = lmbench.Predict(
        "question -> answer: int", lm=lm, adapter="chat", demos=[{"question": "1+1?", "answer": 2}]
    )
    qa(question="2+2?")
    roles = [m.role for m in lm.requests[0].messages]
    assert roles == ["system", "user", "assistant", "user"]
    assert "1+1?" in lm.requests[0].messages[1].text
    assert "[[ ## answer ## ]]\n2" in lm.requests[0].messages[2].text


def test_per_call_overrides_lm_config_and_n() -> None:
    default_lm = ScriptedLM([ANSWER_4])
    other = ScriptedLM(["[[ ## answer ## ]]\n5\n\n[[ ## completed ## ]]"], repeat=True)
    qa = lmbench.Predict("question -> answer: int", lm=default_lm, adapter="chat")
    pred = qa(question="q", lm=other, config={"temperature": 0.7, "max_tokens": 50}, n=3)
    assert default_lm.requests == []
    request = other.requests[0]
    assert (request.temperature, request.max_tokens, request.n) == (0.7, 50, 3)
    assert [c["answer"] for c in pred.completions] == [5, 5, 5]


def test_settings_lm_and_temperature_apply() -> None:
    lm = ScriptedLM([ANSWER_4])
    with lmbench.context(lm=lm, temperature=0.2):
        lmbench.Predict("question -> answer: int", adapter="chat")(question="q")
    assert lm.requests[0].temperature == 0.2


def test_unknown_config_key_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown config key\(s\) \['temp'\]"):
        lmbench.Predict("q -> a", config={"temp": 1})


def test_stream_yields_field_deltas_then_the_prediction() -> None:
    lm = ScriptedLM(
        ["[[ ## answer ## ]]\nParis is the capital.\n\n[[ ## completed ## ]]"], chunk_size=4
    )
    qa = lmbench.Predict("question -> answer", lm=lm, adapter="chat")
    events = list(qa.stream(question="capital of France?"))
    deltas = [e for e in events if isinstance(e, FieldDelta)]
    assert isinstance(events[-1], Prediction)
    assert events[-1].answer == "Paris is the capital."
    assert len(deltas) > 2
    assert "".join(d.text for d in deltas if d.field == "answer") == "Paris is the capital."


def test_acall_and_astream() -> None:
    lm = ScriptedLM([ANSWER_4], repeat=True)
    qa = lmbench.Predict("question -> answer: int", lm=lm, adapter="chat")

    async def main() -> tuple[int, list[object]]:
        pred = await qa.acall(question="q")
        events = [e async for e in qa.astream(question="q")]
        return pred.answer, events

    answer, events = asyncio.run(main())
    assert answer == 4
    assert isinstance(events[-1], Prediction) and events[-1].answer == 4


def test_render_shows_the_exact_prompt_without_calling() -> None:
    lm = ScriptedLM([])
    qa = lmbench.Predict("question -> answer", lm=lm, adapter="chat")
    text = qa.render(question="Why is the sky blue?")
    assert "--- system ---" in text and "--- user ---" in text
    assert "Why is the sky blue?" in text
    assert lm.requests == []


def test_save_and_load_round_trip_json(tmp_path: Path) -> None:
    qa = lmbench.Predict(
        "question -> answer",
        demos=[{"question": "1+1?", "answer": "2"}],
        config={"temperature": 0.0},
    )
    qa.signature = qa.signature.with_instructions("Answer in one word.")
    path = qa.save(tmp_path / "qa.json")
    data = json.loads(path.read_text())
    assert data["state"]["self"]["instructions"] == "Answer in one word."
    fresh = lmbench.Predict("question -> answer").load(path)
    assert fresh.signature.instructions == "Answer in one word."
    assert fresh.demos == [{"question": "1+1?", "answer": "2"}]
    assert fresh.config == {"temperature": 0.0}


def test_load_rejects_other_files(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not an lmbench program file"):
        lmbench.Predict("q -> a").load(path)


def test_user_module_attributes_nested_calls_to_itself() -> None:
    lm = ScriptedLM(["[[ ## summary ## ]]\nshort\n\n[[ ## completed ## ]]", ANSWER_4])

    class SummariseThenAnswer(lmbench.Module):
        def __init__(self) -> None:
            self.summarise = lmbench.Predict("text -> summary", lm=lm, adapter="chat")
            self.answer = lmbench.Predict("summary, question -> answer: int", lm=lm, adapter="chat")

        def forward(self, text: str, question: str) -> Prediction:
            summary = self.summarise(text=text).summary
            return self.answer(summary=summary, question=question)

    program = SummariseThenAnswer()
    pred = program(text="long text", question="q")
    assert pred.answer == 4
    assert pred.call.module == "SummariseThenAnswer"
    assert len(pred.lm_calls) == 2
    assert [name for name, _ in program.named_predictors()] == ["summarise", "answer"]


def test_saved_program_never_holds_the_api_key(tmp_path: Path) -> None:
    sentinel = "sk-SENTINEL-never-saved-0123456789"
    lm = lmbench.resolve_lm("openai/gpt-4o-mini", api_key=sentinel)
    qa = lmbench.Predict("question -> answer", lm=lm, config={"temperature": 0.0})
    path = qa.save(tmp_path / "qa.json")
    assert sentinel not in path.read_text()
    assert sentinel not in repr(qa) and sentinel not in repr(lm)
