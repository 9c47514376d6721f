"""Static HTML and text renderings: content, theme variables, and escaping of every user and
model string (a ``<script>`` or ``<img onerror>`` never reaches the page as markup)."""

from __future__ import annotations

from typing import Any

import pytest

from lmbench.adapters.base import AdapterAttempt, Repair
from lmbench.calls import lm_call, module_call
from lmbench.errors import AdapterParseError
from lmbench.lm import LMRequest, Message, ScriptedLM
from lmbench.notebook.batch import Comparison, ModelRun
from lmbench.notebook.html import STYLE
from lmbench.notebook.predict_magic import PromptView, StreamView
from lmbench.notebook.render import RENDERERS, html_for, text_for
from lmbench.notebook.render_errors import MagicError
from lmbench.notebook.render_history import EntriesView
from lmbench.notebook.render_prediction import FullPrediction
from lmbench.notebook.render_session import Panel, message_panel
from lmbench.observe import MemoryCollector
from lmbench.observe.history import CallHistory as History
from lmbench.primitives import Example, Prediction
from lmbench.signatures import InputField, OutputField, Signature

PAYLOADS = ("<script>alert('x')</script>", '<img src=x onerror="alert(1)">')


def _signature(payload: str) -> Signature:
    class Risky(Signature):
        """Instructions with a payload."""

        question: str = InputField(desc=payload)
        answer: int = OutputField(desc=payload, ge=0)

    return Risky.with_instructions(f"Answer. {payload}")


def _prediction(payload: str, memory: MemoryCollector | None = None) -> Prediction:
    """A prediction made through the real call seam, with the payload everywhere it can be."""
    signature = _signature(payload)
    lm = ScriptedLM([f"[[ ## answer ## ]]\n{payload}", "3"])
    with module_call("Predict", signature=signature.name) as node:
        for adapter, error in (
            ("ChatAdapter", AdapterParseError(payload, adapter="ChatAdapter", raw=payload)),
            ("JSONAdapter", None),
        ):
            request = LMRequest(
                messages=(Message("system", payload), Message("user", f"question: {payload}"))
            )
            with lm_call(lm, request, adapter=adapter) as call:
                call.run()
                call.set_parse(
                    adapter=adapter,
                    diagnostics=[{"rule": payload, "field": "answer", "detail": payload}],
                    error=error,
                    fallback_from="ChatAdapter" if adapter == "JSONAdapter" else None,
                )
    return Prediction(
        {"answer": 3, "note": payload},
        completions=[{"answer": 3, "note": payload}, {"answer": 4, "note": payload}],
        signature=signature,
        inputs={"question": payload},
        adapter="JSONAdapter",
        repairs=[Repair(payload, "answer", payload)],
        attempts=[AdapterAttempt("ChatAdapter", error=payload), AdapterAttempt("JSONAdapter")],
        call=node,
    )


def _parse_error(payload: str) -> AdapterParseError:
    raw = f"[[ ## answer ## ]]\n{payload} not a number"
    start = raw.index(payload)
    return AdapterParseError(
        f"not an integer: {payload}",
        adapter="ChatAdapter",
        field="answer",
        expected=f"int {payload}",
        raw=raw,
        parsed={"reasoning": payload},
        span=(start, start + len(payload)),
    )


def _everything(payload: str) -> list[tuple[str, Any]]:
    """Every rendered object, each with the payload in its user- or model-written parts."""
    memory = MemoryCollector()
    from lmbench.settings import context

    with context(history=memory):
        prediction = _prediction(payload)
    entries = memory.entries()
    lm_entry = next(e for e in entries if e.kind == "lm")
    comparison = Comparison(
        _signature(payload),
        {"question": payload},
        [ModelRun("scripted/a", prediction, latency_s=0.1), ModelRun("scripted/b", error=payload)],
    )
    return [
        ("prediction", prediction),
        ("full prediction", FullPrediction(prediction)),
        ("signature", _signature(payload)),
        ("example", Example(question=payload, answer=payload).with_inputs("question")),
        ("history entry", lm_entry),
        ("history table", EntriesView(entries)),
        ("history", History(memory)),
        ("trace", prediction.call),
        ("parse error", _parse_error(payload)),
        ("magic error", MagicError("%%predict", payload, source=payload, line=2)),
        ("comparison", comparison),
        ("panel", message_panel(payload, payload)),
        ("prompt", PromptView(_signature(payload), payload)),
        ("stream", StreamView({"answer": payload})),
        ("sandbox run", _sandbox_result(payload)),
    ]


def _sandbox_result(payload: str) -> Any:
    from lmbench.sandbox import SandboxResult, SandboxToolCall

    return SandboxResult(
        stdout=payload,
        stderr=payload,
        error=payload,
        tool_calls=(SandboxToolCall(payload, {"q": payload}, error=payload),),
    )


def _html(obj: Any) -> str:
    html = html_for(obj)
    return html if html is not None else obj._repr_html_()


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_renderer_escapes_user_and_model_text(payload: str) -> None:
    import html as html_module

    escaped = html_module.escape(payload, quote=True)
    for name, obj in _everything(payload):
        html = _html(obj)
        assert payload not in html, f"{name} renders the payload as markup"
        assert "<script" not in html.lower(), name
        assert "<img" not in html.lower(), name
        assert escaped in html, f"{name} does not show the payload (escaped)"


def test_the_renderer_table_covers_the_core_types() -> None:
    names = {r.name for r in RENDERERS}
    assert names == {
        "Prediction",
        "Signature",
        "Example",
        "HistoryEntry",
        "CallHistory",
        "ModuleCall",
        "AdapterParseError",
        "Hits",
        "VectorIndex",
        "Embedder",
        "Image",
        "Audio",
        "Document",
        "Citations",
        "SandboxResult",
        "Sandbox",
    }
    assert html_for(object()) is None and text_for(object()) is None


def test_styles_use_jupyterlab_theme_variables_with_fallbacks() -> None:
    for variable in (
        "--jp-ui-font-color1",
        "--jp-layout-color1",
        "--jp-border-color2",
        "--jp-code-font-family",
    ):
        assert f"var({variable}," in STYLE
    html = _html(_signature("x"))
    assert html.startswith(STYLE) and "<script" not in html


def test_prediction_html_shows_fields_usage_adapter_repairs_fallback_prompt_and_raw() -> None:
    prediction = _prediction("Paris")
    html = _html(prediction)
    assert "<th>answer <span class='lmb-meta'>int</span></th>" in html
    assert "<code>3</code>" in html
    assert "scripted/test" in html and "tokens" in html and "cost" in html and "$0" in html
    assert "latency" in html and "cache" in html
    assert "JSONAdapter" in html and "lmb-warn" in html  # fell back: marked as a warning
    assert "Repairs applied" in html and "Fallback timeline" in html
    assert "<details><summary>Prompt (call 1 of 2, ChatAdapter)</summary>" in html
    assert "<details><summary>Raw response (call 2 of 2, JSONAdapter)</summary>" in html
    assert "1 more completions" in html and "completion 2" in html
    full = _html(FullPrediction(prediction))
    assert "<details open><summary>Prompt" in full


def test_prediction_text_is_a_readable_summary() -> None:
    text = text_for(_prediction("Paris"))
    assert text is not None
    assert "answer = 3" in text and "note = 'Paris'" in text
    assert "(2 completions)" in text
    assert "scripted/test" in text and "adapter JSONAdapter" in text
    assert "fallback: ChatAdapter (failed) -> JSONAdapter (ok)" in text


def test_signature_html_lists_fields_types_descriptions_and_constraints() -> None:
    html = _html(_signature("the question asked"))
    assert "Answer. the question asked" in html
    assert "<code>question</code>" in html and "<code>answer</code>" in html
    assert "<code>int</code>" in html and "ge=0" in html
    text = text_for(_signature("d"))
    assert text is not None and "output answer: int (ge=0) - d" in text


def test_example_marks_inputs_and_labels() -> None:
    example = Example(question="q", answer="a").with_inputs("question")
    assert ">input<" in _html(example) and ">label<" in _html(example)
    assert "question = 'q'  (input)" in (text_for(example) or "")


def test_parse_error_marks_the_failing_span() -> None:
    error = _parse_error("12x")
    html = _html(error)
    assert "<mark>12x</mark>" in html
    assert "expected" in html and "int 12x" in html
    assert "Parsed before the failure" in html and "reasoning" in html
    text = text_for(error) or ""
    assert ">>>12x<<<" in text and "field: answer" in text


def test_parse_error_without_span_shows_the_raw_text() -> None:
    error = AdapterParseError("no markers", adapter="ChatAdapter", raw="just text")
    html = _html(error)
    assert "<pre>just text</pre>" in html and "<mark>" not in html


def test_trace_shows_modules_and_lm_calls_nested() -> None:
    prediction = _prediction("x")
    html = _html(prediction.call)
    assert html.count("LM scripted/test via") == 2
    assert "fell back from ChatAdapter" in html
    assert "<b>Predict (Risky)</b>" in html
    text = text_for(prediction.call) or ""
    assert text.splitlines()[1].startswith("Predict (Risky)")
    assert "  LM scripted/test via JSONAdapter" in text


def test_history_renderings_show_calls_and_errors() -> None:
    memory = MemoryCollector()
    from lmbench.settings import context

    with context(history=memory):
        _prediction("x")
    entries = memory.entries()
    table = _html(EntriesView(entries))
    assert table.count("<tr>") == len(entries) + 1
    assert "error" in table and "repaired" in table
    assert "no calls recorded yet" in _html(EntriesView([]))
    entry = next(e for e in entries if e.kind == "lm" and e.error)
    assert "AdapterParseError" in _html(entry)
    assert "AdapterParseError" in (text_for(entry) or "")
    history_html = _html(History(memory))
    assert "scripted" in history_html


def test_panels_and_views_have_text_forms() -> None:
    from IPython.lib.pretty import pretty

    assert pretty(Panel("T", "<b>x</b>", "plain")) == "T\nplain"
    assert "%%predict: bad" in pretty(MagicError("%%predict", "bad", "src", 0))
    assert "magic line: src" in pretty(MagicError("%%predict", "bad", "src", 0))
    assert pretty(StreamView({"answer": "4"})) == "answer: 4"
    assert pretty(PromptView(_signature("x"), "PROMPT")) == "PROMPT"


def test_core_types_render_without_the_extension() -> None:
    """Saved notebooks keep HTML outputs even when ``%load_ext lmbench`` was never run."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    assert "predict" not in shell.magics_manager.magics["cell"]
    for name, obj in _everything("x")[:9]:
        data, _ = shell.display_formatter.format(obj)
        assert data["text/html"].startswith(STYLE), name


def test_the_extension_gives_core_types_their_text_form(shell: Any) -> None:
    core = [(name, obj) for name, obj in _everything("x") if text_for(obj) is not None]
    assert len(core) == 8
    for name, obj in core:
        data, _ = shell.display_formatter.format(obj)
        assert data["text/plain"] == text_for(obj), name
