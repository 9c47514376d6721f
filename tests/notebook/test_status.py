"""The live status line: drawn at once, ticking, told what happens, replaced by the result."""

from __future__ import annotations

import time
from typing import Any

import lmbench
from lmbench.lm import ScriptedLM
from lmbench.notebook.status import LiveStatus, html_frontend

from .conftest import chat_answer


def _sink() -> tuple[list[Any], Any]:
    drawn: list[Any] = []
    return drawn, drawn.append


def _html(view: Any) -> str:
    return view if isinstance(view, str) else view._repr_html_()


def test_the_line_ticks_every_second_and_ends_as_the_given_view() -> None:
    drawn, sink = _sink()
    status = LiveStatus(sink, "local/gemma-3-270m", tick_s=0.05).start()
    time.sleep(0.3)
    status.doing("parsing the answer")
    status.finish("<b>the result</b>")
    count = len(drawn)
    time.sleep(0.2)
    assert len(drawn) == count, "the ticker kept drawing after finish"
    htmls = [_html(v) for v in drawn]
    assert "local/gemma-3-270m · starting · 0 s" in htmls[0]
    assert len(htmls) >= 4  # first draw, ticks, the 'doing' redraw, the result
    assert any("parsing the answer" in h for h in htmls)
    assert htmls[-1] == "<b>the result</b>"
    assert 'class="lmb lmb-status tex2jax_ignore mathjax_ignore"' in htmls[0]


def test_call_events_report_into_the_line() -> None:
    drawn, sink = _sink()
    status = LiveStatus(sink, "starting", tick_s=60).start()
    with status.watch():
        lmbench.Predict("q -> answer", lm=ScriptedLM([chat_answer(answer="x")], model="w"))(q="1")
    status.stop()
    texts = [v.text if hasattr(v, "text") else v for v in drawn]
    assert any(t.startswith("scripted/w · waiting for the model") for t in texts)
    assert any("answer received" in t for t in texts)
    assert any("parsing the answer" in t for t in texts)


def test_a_summary_is_a_static_final_line() -> None:
    status = LiveStatus(lambda view: None, "%%predict over trips")
    summary = status.summary("4/4 rows")
    assert summary.text.startswith("%%predict over trips · 4/4 rows · ")
    assert "✓" in summary._repr_html_()


def test_html_frontend_tells_a_notebook_from_a_terminal(shell: Any) -> None:
    assert html_frontend(shell)
    before = shell.display_formatter.active_types
    shell.display_formatter.active_types = ["text/plain"]
    try:
        assert not html_frontend(shell)
    finally:
        shell.display_formatter.active_types = before
