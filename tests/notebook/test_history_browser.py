"""The history browser: filters and the detail of the selected call."""

from __future__ import annotations

import pytest

import lmbench
from lmbench.lm import ScriptedLM
from lmbench.notebook.history_browser import ALL
from lmbench.observe import MemoryCollector

from .conftest import chat_answer


def _calls() -> None:
    ok = ScriptedLM([], default=chat_answer(answer=4), model="good")
    bad = ScriptedLM([], default="no markers, no json", model="bad")
    lmbench.Predict("question -> answer: int", lm=ok)(question="first")
    with pytest.raises(lmbench.AdapterParseError):
        lmbench.Predict("question -> answer: int", lm=bad, adapter="chat")(question="broken")


def test_lists_calls_newest_first_and_shows_the_selected_one(
    memory_history: MemoryCollector,
) -> None:
    _calls()
    browser = lmbench.history_browser()
    assert len(browser.entries) == 2
    assert browser.calls.options[0][0].split()[1:3] == ["error", "scripted/bad"]
    assert "no markers, no json" in browser.detail.value
    browser.calls.value = 1
    assert "scripted/good" in browser.detail.value and "first" in browser.detail.value


def test_filters_by_model_module_and_errors(memory_history: MemoryCollector) -> None:
    _calls()
    browser = lmbench.history_browser()
    assert list(browser.model.options) == [ALL, "scripted/bad", "scripted/good"]
    browser.model.value = "scripted/good"
    assert [e.model for e in browser.entries] == ["good"]
    browser.model.value = ALL
    browser.errors_only.value = True
    assert [e.model for e in browser.entries] == ["bad"]
    browser.module.value = "Predict"
    assert len(browser.entries) == 1
    browser.errors_only.value = False
    browser.model.value = "scripted/good"
    browser.errors_only.value = True
    assert browser.entries == [] and "no call matches" in browser.detail.value


def test_refresh_picks_up_new_calls(memory_history: MemoryCollector) -> None:
    browser = lmbench.history_browser()
    assert browser.entries == []
    _calls()
    browser.refresh_button.click()
    assert len(browser.entries) == 2


def test_rows_are_aligned_and_show_the_inputs(memory_history: MemoryCollector) -> None:
    _calls()
    browser = lmbench.history_browser()
    labels = [label for label, _ in browser.calls.options]
    assert "question: broken" in labels[0] and "question: first" in labels[1]
    assert len({label.index("question:") for label in labels}) == 1  # same column in every row
    assert "[[ ##" not in "".join(labels)
    browser.show(1)
    assert "question -&gt; answer: int" in browser.detail.value  # the signature's text


def test_a_saved_notebook_keeps_the_history_table(memory_history: MemoryCollector) -> None:
    _calls()
    bundle = lmbench.history_browser()._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "History" in bundle["text/html"] and "question: first" in bundle["text/html"]
