"""``%%predict`` in a real IPython shell: every option, and every mistake reported clearly."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from lmbench.lm import LMRequest, ScriptedLM
from lmbench.primitives import Prediction
from lmbench.settings import configure

from .conftest import chat_answer, html_of, run_cell


def _only_prediction(run: Any) -> Prediction:
    assert run.error is None, run.error
    assert isinstance(run.result, Prediction)
    return run.result


def test_runs_the_signature_on_the_cell_inputs(shell: Any, lm: ScriptedLM) -> None:
    run = run_cell(
        shell, '%%predict "question -> answer: int"\nquestion: How many legs has a dog?\n'
    )
    prediction = _only_prediction(run)
    assert prediction.answer == 4
    assert "How many legs has a dog?" in lm.last_prompt
    html = html_of(shell, prediction)
    assert "<h4>Prediction · question -&gt; answer: int" in html
    assert "scripted/notebook" in html


def test_interpolation_blocks_and_objects(shell: Any, lm: ScriptedLM) -> None:
    shell.user_ns.update(
        animal="spider", passages=["Spiders have eight legs.", "Insects have six."]
    )
    cell = (
        '%%predict "question, context: list[str], note -> answer: int"\n'
        "question: How many legs has a {animal}?\n"
        "context: $passages\n"
        "note: |\n"
        "    first line\n"
        "    second line\n"
    )
    _only_prediction(run_cell(shell, cell))
    prompt = lm.last_prompt
    assert "How many legs has a spider?" in prompt
    assert "Spiders have eight legs." in prompt and "Insects have six." in prompt
    assert "first line\nsecond line" in prompt


def test_model_option_resolves_a_scripted_model_name(shell: Any) -> None:
    # The echo model repeats the prompt; a question holding a JSON answer makes that parse.
    cell = '%%predict "question -> answer" -m scripted/echo\nquestion: {"answer": "hello"}\n'
    prediction = _only_prediction(run_cell(shell, cell))
    assert prediction.lm_calls[0].lm.name == "scripted/echo"
    assert prediction.answer == "hello"


def test_out_stores_the_prediction_and_displays_it(shell: Any, lm: ScriptedLM) -> None:
    run = run_cell(shell, '%%predict "question -> answer: int" --out pred\nquestion: q\n')
    assert run.error is None and run.result is shell.user_ns["pred"]
    assert shell.user_ns["pred"].answer == 4
    assert "Prediction" in run.html()


def test_prompt_renders_without_calling_the_model(shell: Any, lm: ScriptedLM) -> None:
    run = run_cell(shell, '%%predict "question -> answer: int" --prompt\nquestion: What is 2+2?\n')
    assert run.error is None
    assert lm.requests == []
    html = html_of(shell, run.result)
    assert "not sent" in html and "What is 2+2?" in html and "[[ ## answer ## ]]" in html


def test_n_asks_for_several_completions(shell: Any, lm: ScriptedLM) -> None:
    prediction = _only_prediction(
        run_cell(shell, '%%predict "question -> answer: int" -n 3\nquestion: q\n')
    )
    assert lm.requests[-1].n == 3
    assert len(prediction.completions) == 3


def test_temperature_and_no_cache_reach_the_request(shell: Any, lm: ScriptedLM) -> None:
    lm.cacheable = True
    _only_prediction(
        run_cell(shell, '%%predict "question -> answer: int" -t 0.7 --no-cache\nquestion: q\n')
    )
    request: LMRequest = lm.requests[-1]
    assert request.temperature == 0.7
    prediction = _only_prediction(
        run_cell(shell, '%%predict "question -> answer: int"\nquestion: q\n')
    )
    assert prediction.lm_calls[0].cache_state == "miss"
    again = _only_prediction(run_cell(shell, '%%predict "question -> answer: int"\nquestion: q\n'))
    assert again.lm_calls[0].cache_state == "memory"
    fresh = _only_prediction(
        run_cell(shell, '%%predict "question -> answer: int" --no-cache\nquestion: q\n')
    )
    assert fresh.lm_calls[0].cache_state == "off"


def test_demos_from_a_variable_go_into_the_prompt(shell: Any, lm: ScriptedLM) -> None:
    import lmbench

    shell.user_ns["shots"] = [lmbench.Example(question="Legs of a cat?", answer=4)]
    _only_prediction(
        run_cell(shell, '%%predict "question -> answer: int" --demos shots\nquestion: q\n')
    )
    assert "Legs of a cat?" in lm.last_prompt


def test_signature_from_a_variable(shell: Any, lm: ScriptedLM) -> None:
    shell.run_cell(
        "import lmbench\n"
        "class Legs(lmbench.Signature):\n"
        "    '''Count the legs of the animal.'''\n"
        "    animal: str = lmbench.InputField()\n"
        "    answer: int = lmbench.OutputField()\n"
    )
    prediction = _only_prediction(run_cell(shell, "%%predict --signature Legs\nanimal: dog\n"))
    assert prediction.answer == 4
    assert "Count the legs of the animal." in lm.last_prompt


def test_signature_strings_may_name_notebook_types(shell: Any) -> None:
    shell.run_cell("import enum\nclass Mood(enum.Enum):\n    up = 'up'\n    down = 'down'\n")
    configure(lm=ScriptedLM([chat_answer(mood="down")]))
    prediction = _only_prediction(
        run_cell(shell, '%%predict "text -> mood: Mood"\ntext: rainy day\n')
    )
    assert prediction.mood.value == "down"


def test_module_cot_adds_reasoning(shell: Any) -> None:
    configure(lm=ScriptedLM([chat_answer(reasoning="Dogs walk on four legs.", answer=4)]))
    prediction = _only_prediction(
        run_cell(shell, '%%predict "question -> answer: int" --module cot\nquestion: q\n')
    )
    assert prediction.reasoning == "Dogs walk on four legs." and prediction.answer == 4


def test_registered_modules_are_available(shell: Any, lm: ScriptedLM) -> None:
    from lmbench.modules import Predict
    from lmbench.notebook import register_module
    from lmbench.notebook.predict_magic import MODULES

    class Shouting(Predict):
        pass

    register_module("shout", Shouting)
    try:
        prediction = _only_prediction(
            run_cell(shell, '%%predict "question -> answer: int" --module shout\nquestion: q\n')
        )
        assert prediction.call.module == "Shouting"
    finally:
        MODULES.pop("shout")


@pytest.mark.parametrize(
    ("name", "adapter"), [("json", "JSONAdapter"), ("xml", "XMLAdapter"), ("chat", "ChatAdapter")]
)
def test_adapter_option(shell: Any, name: str, adapter: str) -> None:
    answers = {
        "json": json.dumps({"answer": 4}),
        "xml": "<answer>4</answer>",
        "chat": chat_answer(answer=4),
    }
    configure(lm=ScriptedLM([answers[name]]))
    prediction = _only_prediction(
        run_cell(shell, f'%%predict "question -> answer: int" -a {name}\nquestion: q\n')
    )
    assert prediction.answer == 4 and prediction.adapter == adapter


def test_stream_updates_a_display_and_stores_the_prediction(shell: Any) -> None:
    configure(lm=ScriptedLM([chat_answer(answer="The answer is a long sentence about legs.")]))
    run = run_cell(shell, '%%predict "question -> answer" --stream --out streamed\nquestion: q\n')
    assert run.error is None and run.result is shell.user_ns["streamed"]
    assert shell.user_ns["streamed"].answer == "The answer is a long sentence about legs."
    transient_ids = {
        o.transient.get("display_id") for o in run.outputs if getattr(o, "transient", None)
    }
    assert len(transient_ids) == 1  # one display, updated in place
    htmls = [o.data.get("text/html", "") for o in run.outputs]
    assert "scripted/test" in htmls[0] and "lmb-status" in htmls[0]  # the status line at once
    assert any("receiving answer" in h and "long sentence" in h for h in htmls)
    assert "Prediction" in htmls[-1] and "long sentence about legs" in htmls[-1]


def test_a_failed_stream_ends_in_one_error_card(shell: Any) -> None:
    configure(lm=ScriptedLM(["[[ ## answer ## ]]\nnot a number at all\n\n[[ ## completed ## ]]"]))
    run = run_cell(shell, '%%predict "question -> answer: int" --stream -a chat\nquestion: q\n')
    assert run.error is not None
    views = [o.data.get("text/html", "") for o in run.outputs]
    assert len(views) == 1  # the streamed fields and the status line gave way to the card
    assert "Parse error" in views[0] and "not a number at all" in views[0]


def test_a_call_shows_a_live_status_line_that_becomes_the_result(shell: Any) -> None:
    import time

    def slow(request: LMRequest) -> str:
        time.sleep(1.3)
        return chat_answer(answer=4)

    configure(lm=ScriptedLM(slow, model="slow"))
    run = run_cell(shell, '%%predict "question -> answer: int"\nquestion: q\n')
    assert run.error is None and run.result.answer == 4
    htmls = [o.data.get("text/html", "") for o in run.outputs]
    assert "scripted/slow" in htmls[0] and "• scripted/slow" in htmls[0]
    assert any("waiting for the model" in h for h in htmls)
    assert any("· 1 s" in h for h in htmls)  # the ticker counts the seconds
    assert "Prediction" in htmls[-1]
    ids = {o.transient.get("display_id") for o in run.outputs}
    assert len(ids) == 1
    assert shell.user_ns["Out"][shell.execution_count - 1] is run.result


def test_an_unquoted_signature_says_to_quote_it(shell: Any, lm: ScriptedLM) -> None:
    run = run_cell(shell, "%%predict question -> answer\nquestion: q\n")
    assert run.error is not None
    assert "the signature must be quoted: %%predict &quot;question -&gt; answer&quot;" in run.html()


def test_a_free_form_cell_sends_its_body_as_the_prompt(shell: Any) -> None:
    scripted = ScriptedLM([chat_answer(response="Some *markdown* costs $5 and $6")])
    configure(lm=scripted)
    shell.user_ns["topic"] = "cats"
    run = run_cell(shell, "%%predict\nWrite about {topic}.\nTwo lines.\n")
    assert run.error is None
    assert "Write about cats.\nTwo lines." in scripted.last_prompt
    markdown = run.outputs[-1].data["text/markdown"]
    assert markdown == "Some *markdown* costs \\$5 and \\$6"  # MathJax leaves them alone


@pytest.mark.parametrize(
    ("fmt", "mime", "expected"),
    [
        ("json", "application/json", {"a": 1}),
        ("code", "text/plain", "print(1)"),
        ("html", "text/html", '<div class="tex2jax_ignore mathjax_ignore"><b>hi</b></div>'),
        ("text", "text/plain", "plain"),
    ],
)
def test_format_renders_the_response(shell: Any, fmt: str, mime: str, expected: Any) -> None:
    replies = {
        "json": '{"a": 1}',
        "code": "```python\nprint(1)\n```",
        "html": "<b>hi</b>",
        "text": "plain",
    }
    configure(lm=ScriptedLM([chat_answer(response=replies[fmt])]))
    run = run_cell(shell, f"%%predict -f {fmt}\nsay it\n")
    assert run.error is None
    assert run.outputs[-1].data[mime] == expected


def test_format_code_puts_the_code_into_a_new_cell(shell: Any, monkeypatch: Any) -> None:
    inserted: list[tuple[str, bool]] = []
    monkeypatch.setattr(
        shell, "set_next_input", lambda text, replace=False: inserted.append((text, replace))
    )
    configure(lm=ScriptedLM([chat_answer(response="```python\nprint(1)\n```")]))
    run_cell(shell, "%%predict -f code\nwrite code\n")
    assert inserted == [("print(1)", False)]


def test_out_and_in_interpolate_earlier_cells(shell: Any) -> None:
    scripted = ScriptedLM([], default=chat_answer(response="ok"))
    configure(lm=scripted)
    run_cell(shell, "21 * 2")
    number = shell.execution_count - 1
    run_cell(shell, f"%%predict\nThe answer was {{Out[{number}]}} from {{In[{number}]}}.\n")
    assert "The answer was 42 from 21 * 2." in scripted.last_prompt
    bad = run_cell(shell, "%%predict\nsee {Out[9999]}\n")
    assert bad.error is not None and "Out has no output [9999]" in bad.html()


def test_over_runs_every_row_and_keeps_failures_in_their_row(shell: Any) -> None:
    def answer(request: LMRequest) -> str:
        text = request.messages[-1].text
        if "unicorn" in text:
            return "no markers at all"
        return chat_answer(answer=8 if "spider" in text else 4)

    configure(lm=ScriptedLM(answer))
    shell.user_ns["animals"] = pd.DataFrame(
        {
            "question": ["legs of a spider?", "legs of a unicorn?", "legs of a dog?"],
            "extra": [1, 2, 3],
        }
    )
    run = run_cell(
        shell, '%%predict "question, style -> answer: int" --over animals\nstyle: terse\n'
    )
    assert run.error is None
    frame = run.result
    assert list(frame.columns) == [
        "question",
        "answer",
        "input_tokens",
        "output_tokens",
        "cost_usd",
        "latency_s",
        "error",
    ]
    assert frame["answer"].tolist()[0] == 8 and frame["answer"].tolist()[2] == 4
    assert frame["error"].iloc[1].startswith("AdapterParseError")
    assert pd.isna(frame["error"].iloc[0]) and frame["input_tokens"].iloc[0] > 0


def test_compare_runs_each_model_side_by_side(shell: Any) -> None:
    from lmbench.lm import register_provider

    register_provider(
        "fixed",
        lambda model, **kw: ScriptedLM([], default=chat_answer(answer=len(model)), model=model),
    )
    run = run_cell(
        shell,
        '%%predict "question -> answer: int" --compare fixed/ab,fixed/abcd,nowhere/x\nquestion: q\n',
    )
    assert run.error is None
    comparison = run.result
    assert {m: p.answer for m, p in comparison.predictions.items()} == {
        "fixed/ab": 2,
        "fixed/abcd": 4,
    }
    failed = comparison.runs[2]
    assert failed.model == "nowhere/x" and "unknown provider 'nowhere'" in failed.error
    html = html_of(shell, comparison)
    assert "<th>fixed/ab</th><th>fixed/abcd</th><th>nowhere/x</th>" in html
    assert "cost" in html and "latency" in html
    frame = comparison.frame()
    assert frame.loc["fixed/abcd", "answer"] == 4
    lines = [o.data.get("text/html", "") for o in run.outputs if o.transient]
    assert "%%predict --compare · 0/3 models" in lines[0]
    assert any("1/3 models · fixed/abcd" in line for line in lines)  # which model runs now
    # saved: the final state, not a bar at 0%; the failed model counts as an error
    assert "⚠ %%predict --compare · 3/3 models · 1 error · " in lines[-1]


ERRORS = [
    (
        '%%predict "question -> answer" --tempreature 0.5\nquestion: q',
        "unknown option(s) --tempreature (did you mean --temperature?)",
        "magic line",
    ),
    (
        '%%predict "question -> answer" -a yaml\nquestion: q',
        "argument -a/--adapter: invalid choice: 'yaml'",
        None,
    ),
    (
        '%%predict "question -> answer" -n many\nquestion: q',
        "argument -n: invalid int value: 'many'",
        None,
    ),
    ('%%predict "question -> answer\nquestion: q', "cannot read the options", "magic line"),
    ('%%predict "question answer"\nquestion: q', "exactly one '->'", "magic line"),
    ('%%predict "question -> answer: Nope"\nquestion: q', "unknown type 'Nope'", "magic line"),
    (
        '%%predict "question -> answer"\nquestion: q\ncolour: red',
        "unknown field 'colour'",
        "line 2",
    ),
    (
        '%%predict "question, n: int -> answer"\nquestion: q\nn: lots',
        "field 'n' expects int, got 'lots'",
        "line 2",
    ),
    (
        '%%predict "question -> answer"\nquestion: {undefined_thing}',
        "unknown variable 'undefined_thing'",
        "line 1",
    ),
    (
        '%%predict "question, n: int -> answer"\nquestion: q',
        "missing input(s) ['n']: add a line 'n: ...'",
        None,
    ),
    (
        '%%predict "question -> answer" --module tree\nquestion: q',
        "--module tree: unknown module",
        None,
    ),
    ("%%predict --signature nothing_here\nquestion: q", "no variable named 'nothing_here'", None),
    ("%%predict --signature some_number\nquestion: q", "int is not a Signature", None),
    ('%%predict "q -> a" --signature some_number\nq: x', "not both", None),
    (
        '%%predict "question -> answer" --demos some_number\nquestion: q',
        "expected a list of Examples",
        None,
    ),
    (
        '%%predict "question -> answer" --over some_number\nquestion: q',
        "int is not a DataFrame",
        None,
    ),
    ('%%predict "question, n -> answer" --over frame\nquestion: q', "missing input(s) ['n']", None),
    (
        '%%predict "question -> answer" --stream --prompt\nquestion: q',
        "--stream and --prompt cannot be used together",
        None,
    ),
    ('%%predict "question -> answer" --compare a/b\nquestion: q', "at least two models", None),
    ('%%predict "question -> answer" --compare a/b,c/d -m x/y\nquestion: q', "leave out -m", None),
]


@pytest.mark.parametrize(("cell", "message", "where"), ERRORS)
def test_mistakes_show_a_short_message_not_a_traceback(
    shell: Any, lm: ScriptedLM, cell: str, message: str, where: str | None
) -> None:
    shell.user_ns.update(some_number=3, frame=pd.DataFrame({"question": ["a"]}))
    run = run_cell(shell, cell)
    assert run.error is not None  # the cell fails (Run All stops) ...
    html = run.html()
    assert "%%predict: error" in html and "not run" in html
    import html as html_module

    assert html_module.escape(message, quote=True) in html
    if where is not None:
        assert f"{where}: </span><mark>" in html
    assert "Traceback" not in run.stdout + run.stderr  # ... with one line instead of a stack
    assert lm.requests == []


def test_parse_failures_show_the_raw_text_with_the_problem_marked(shell: Any) -> None:
    configure(lm=ScriptedLM([], default="[[ ## answer ## ]]\nfour\n\n[[ ## completed ## ]]"))
    run = run_cell(shell, '%%predict "question -> answer: int" -a chat\nquestion: q\n')
    from lmbench.notebook.problems import CellProblem

    assert isinstance(run.error, CellProblem)
    html = run.html()
    assert "Parse error" in html and "ChatAdapter" in html and "four" in html
    assert "Traceback" not in run.stdout


def test_provider_failures_are_reported_briefly(shell: Any) -> None:
    run = run_cell(shell, '%%predict "question -> answer" -m nowhere/x\nquestion: q\n')
    assert run.error is not None
    assert "ConfigError: unknown provider &#x27;nowhere&#x27;" in run.html()


def test_help_lists_the_options(shell: Any) -> None:
    from lmbench.notebook import predict_magic

    magic = shell.find_cell_magic("predict")
    assert magic.__doc__ == predict_magic.__doc__
    assert "--compare" in magic.__doc__ and "--over" in magic.__doc__


def test_the_help_example_runs_as_written_and_has_no_markup(shell: Any, lm: ScriptedLM) -> None:
    import re

    from lmbench.notebook import predict_magic

    doc = shell.magics_manager.magics["cell"]["predict"].__doc__
    assert doc == predict_magic.__doc__ and "``" not in doc
    example = re.search(r"\n    (%%predict .*\n    .*)\n", doc).group(1).replace("\n    ", "\n")
    run = run_cell(shell, example + "\n")
    assert run.error is None and shell.user_ns["pred"].answer == 4


def test_a_budget_error_keeps_its_dollar_amounts_out_of_mathjax(shell: Any, lm: ScriptedLM) -> None:
    from lmbench.notebook.html import NO_MATH

    run_cell(shell, "%lmbench budget 0")
    run = run_cell(shell, '%%predict "question -> answer: int" -m openai/gpt-4o\nquestion: q\n')
    assert run.error is not None
    card = run.outputs[-1].data["text/html"]
    assert "$" in card and f'class="lmb {NO_MATH}"' in card
