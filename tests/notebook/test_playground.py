"""The playground form, driven through its Python API as a person would through the widgets."""

from __future__ import annotations

import enum
from typing import Any, Literal

import ipywidgets as widgets

import lmbench
from lmbench.lm import ScriptedLM
from lmbench.notebook.state import LastPrediction
from lmbench.settings import configure

from .conftest import chat_answer


class Tone(enum.Enum):
    calm = "calm"
    loud = "loud"


class Ask(lmbench.Signature):
    """Answer the question."""

    question: str = lmbench.InputField(desc="what to answer")
    count: int = lmbench.InputField()
    ratio: float = lmbench.InputField()
    strict: bool = lmbench.InputField()
    mode: Literal["short", "long"] = lmbench.InputField()
    tone: Tone = lmbench.InputField()
    tags: list[str] = lmbench.InputField()
    answer: int = lmbench.OutputField()


def test_a_widget_per_input_field_by_type() -> None:
    pg = lmbench.playground(Ask)
    kinds = {name: type(w) for name, w in pg.inputs.items()}
    assert kinds == {
        "question": widgets.Textarea,
        "count": widgets.IntText,
        "ratio": widgets.FloatText,
        "strict": widgets.Checkbox,
        "mode": widgets.Dropdown,
        "tone": widgets.Dropdown,
        "tags": widgets.Textarea,
    }
    assert list(pg.inputs["mode"].options) == ["short", "long"]
    assert pg.inputs["tone"].value is Tone.calm
    assert pg.inputs["question"].placeholder == "what to answer"
    assert list(pg.adapter.options) == ["default", "chat", "json", "xml", "twostep", "fallback"]
    assert isinstance(pg.widget, widgets.VBox)


def _fill(pg: lmbench.notebook.Playground) -> None:
    pg.inputs["question"].value = "How many?"
    pg.inputs["count"].value = 3
    pg.inputs["ratio"].value = 0.5
    pg.inputs["strict"].value = True
    pg.inputs["mode"].value = "long"
    pg.inputs["tone"].value = Tone.loud
    pg.inputs["tags"].value = '["a", "b"]'


def test_run_button_streams_and_shows_the_prediction() -> None:
    lm = ScriptedLM([chat_answer(answer=42)], chunk_size=4)
    configure(lm=lm)
    pg = lmbench.playground(Ask)
    assert pg.model.label.endswith("(configured)")
    seen: list[str] = []
    pg.output.observe(lambda change: seen.append(change["new"]), names="value")
    _fill(pg)
    pg.run_button.click()
    assert pg.error is None
    assert pg.prediction.answer == 42
    assert LastPrediction.value is pg.prediction
    assert any("receiving answer" in value for value in seen)  # the status over the stream
    assert "Prediction" in pg.output.value and "42" in pg.output.value
    prompt = lm.last_prompt
    for text in ("how many?", "3", "0.5", "true", "long", "loud", '["a", "b"]'):
        assert text in prompt.lower()


def test_without_streaming_and_with_a_chosen_adapter() -> None:
    configure(lm=ScriptedLM(['{"answer": 7}']))
    pg = lmbench.playground("question -> answer: int", stream=False)
    pg.inputs["question"].value = "q"
    pg.adapter.value = "json"
    assert pg.run() is pg.prediction
    assert pg.prediction.answer == 7 and pg.prediction.adapter == "JSONAdapter"


def test_mistakes_and_failures_show_inline() -> None:
    configure(
        lm=ScriptedLM([], default="[[ ## answer ## ]]\nnot a number\n\n[[ ## completed ## ]]")
    )
    pg = lmbench.playground(Ask)
    _fill(pg)
    pg.inputs["tags"].value = "[1, 2"  # neither JSON nor a list
    pg.run_button.click()
    assert pg.prediction is None
    assert "field &#x27;tags&#x27; expects list[str]" in pg.output.value
    pg.inputs["tags"].value = "[]"
    pg.inputs["question"].value = ""
    pg.run_button.click()
    assert "fill in the field &#x27;question&#x27;" in pg.output.value  # the form's words
    assert "to the cell" not in pg.output.value
    pg.inputs["question"].value = "q"
    pg.adapter.value = "chat"
    pg.run_button.click()
    assert pg.prediction is None and pg.error is not None
    assert "Parse error" in pg.output.value and "not a number" in pg.output.value


def test_models_to_choose_from() -> None:
    pg = lmbench.playground("q -> a", models=["scripted/one", "scripted/two"])
    labels = [label for label, _value in pg.model.options]
    assert labels[:2] == ["scripted/one", "scripted/two"]
    pg.inputs["q"].value = '{"a": "hello"}'  # echoed back by the scripted model: a JSON answer
    pg.model.value = "scripted/two"
    pg.stream.value = False
    prediction = pg.run()
    assert prediction is not None and prediction.lm_calls[0].lm.name == "scripted/two"


def test_run_disables_the_button_shows_a_status_and_clears_the_last_result() -> None:
    seen: list[tuple[bool, str]] = []

    def answer(request: Any) -> str:
        seen.append((pg.run_button.disabled, pg.output.value))
        return "[[ ## answer ## ]]\n42\n\n[[ ## completed ## ]]"

    configure(lm=ScriptedLM(answer, model="pg"))
    pg = lmbench.playground(Ask, stream=False)
    pg.output.value = "<b>an old result</b>"
    _fill(pg)
    pg.run_button.click()
    disabled, during = seen[0]
    assert disabled, "the Run button stays enabled while the call runs"
    assert "an old result" not in during and "scripted/pg" in during and "lmb-status" in during
    assert not pg.run_button.disabled
    assert "Prediction" in pg.output.value


def test_a_saved_notebook_keeps_a_static_view_of_the_form() -> None:
    bundle = lmbench.playground(Ask)._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    html = bundle["text/html"]
    assert "Playground" in html and "question" in html and "live form" in html
