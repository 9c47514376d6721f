"""``%lmbench``: config, models, history, last, cost, cache, budget, replay, and mistakes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lmbench.calls.budget import session_budget
from lmbench.errors import ReplayMissError
from lmbench.lm import ScriptedLM
from lmbench.lm.replay import replay
from lmbench.settings import configure

from .conftest import chat_answer, html_of, run_cell

ASK = '%%predict "question -> answer: int"\nquestion: {q}\n'


def _ask(shell: Any, question: str = "q") -> Any:
    run = run_cell(shell, ASK.format(q=question))
    assert run.error is None, run.error
    return run.result


def test_config_shows_model_adapter_cache_history_replay_and_budget(
    shell: Any, lm: ScriptedLM
) -> None:
    run = run_cell(shell, "%lmbench config")
    html = html_of(shell, run.result)
    assert "scripted/notebook (configured)" in html
    assert "default (per model)" in html
    assert "on, folder" in html
    assert "in memory (0 entries, keeps the last" in html
    assert "<td>off</td>" in html  # replay
    assert "<td>none</td>" in html  # session budget


def test_models_tell_which_keys_are_set_but_never_the_key(
    shell: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-ant-secret-value-123456"
    monkeypatch.setenv("ANTHROPIC_API_KEY", secret)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    run = run_cell(shell, "%lmbench models")
    html = html_of(shell, run.result)
    text = "".join(html_of(shell, run.result)) + repr(run.result.text)
    assert "ANTHROPIC_API_KEY set" in html
    assert "OPENAI_API_KEY not set" in html
    assert "local/…" in html and "no key needed" in html
    assert secret not in text


def test_history_shows_the_last_calls(shell: Any, lm: ScriptedLM) -> None:
    for question in ("first", "second", "third"):
        _ask(shell, question)
    html = html_of(shell, run_cell(shell, "%lmbench history 2").result)
    assert "History (last 2 of 3)" in html
    assert "question: second" in html and "question: third" in html
    assert "question: first" not in html and "[[ ##" not in html  # the inputs, not the markup
    assert "Respond" not in html  # nor the closing request after them
    default = html_of(shell, run_cell(shell, "%lmbench history").result)
    assert "History (last 3 of 3)" in default  # never "last 10 of 3"
    assert "question: first" in default


def test_history_browse_returns_the_browser(shell: Any, lm: ScriptedLM) -> None:
    from lmbench.notebook.history_browser import HistoryBrowser

    _ask(shell)
    browser = run_cell(shell, "%lmbench history --browse").result
    assert isinstance(browser, HistoryBrowser) and len(browser.entries) == 1


def test_last_shows_the_last_prediction_expanded(shell: Any, lm: ScriptedLM) -> None:
    empty = html_of(shell, run_cell(shell, "%lmbench last").result)
    assert "no prediction yet" in empty or "Prediction" in empty
    _ask(shell, "which one?")
    html = html_of(shell, run_cell(shell, "%lmbench last").result)
    assert "<details open><summary>Prompt" in html and "which one?" in html


def test_last_remembers_a_prediction_from_plain_code(shell: Any, lm: ScriptedLM) -> None:
    shell.run_cell(
        "import lmbench\nlmbench.Predict('question -> answer: int')(question='from code')"
    )
    html = html_of(shell, run_cell(shell, "%lmbench last").result)
    assert "from code" in html


def test_cost_rolls_up_by_model_and_module(shell: Any, lm: ScriptedLM) -> None:
    _ask(shell)
    run = run_cell(shell, "%lmbench cost")
    html = html_of(shell, run.result)
    assert "by model" in html and "scripted/notebook" in html
    assert "by module" in html and "Predict" in html
    assert "1 (0 from cache)" in html


def test_cache_stats_and_clear(shell: Any, lm: ScriptedLM) -> None:
    lm.cacheable = True
    _ask(shell)
    _ask(shell)
    html = html_of(shell, run_cell(shell, "%lmbench cache stats").result)
    assert "1 (1 memory, 0 disk)" in html
    cleared = html_of(shell, run_cell(shell, "%lmbench cache clear").result)
    assert "cache cleared" in cleared
    assert _ask(shell).lm_calls[0].cache_state == "miss"


def test_budget_sets_a_session_limit_that_stops_calls(shell: Any, lm: ScriptedLM) -> None:
    run = run_cell(shell, "%lmbench budget 0.50 --tokens 150")
    assert "session budget set: $0.5 and 150 tokens" in html_of(shell, run.result)
    limit = session_budget()
    assert limit is not None and limit.usd == 0.5 and limit.tokens == 150
    _ask(shell)  # about 130 tokens
    over = run_cell(shell, ASK.format(q="again"))
    assert over.error is not None and "BudgetExceeded" in over.html()
    config = html_of(shell, run_cell(shell, "%lmbench config").result)
    assert "of 150 tokens" in config
    run_cell(shell, "%lmbench budget off")
    assert session_budget() is None
    _ask(shell)


def test_replay_record_play_off(shell: Any, tmp_path: Path) -> None:
    path = tmp_path / "notebook.jsonl"
    configure(lm=ScriptedLM([chat_answer(answer=8)], model="paid"))
    assert "recording every LM response" in html_of(
        shell, run_cell(shell, f"%lmbench replay record {path}").result
    )
    assert _ask(shell, "legs of a spider?").answer == 8
    run_cell(shell, "%lmbench replay off")
    configure(lm=ScriptedLM([], model="paid"))  # no answers left: a live call would fail
    played = html_of(shell, run_cell(shell, f"%lmbench replay play {path}").result)
    assert "(1 responses in the file)" in played
    assert _ask(shell, "legs of a spider?").answer == 8
    miss = run_cell(shell, ASK.format(q="legs of an ant?"))
    assert "ReplayMissError" in miss.html() and "legs of an ant?" in miss.html()
    assert isinstance(
        miss.error.__cause__ or miss.error.__context__, ReplayMissError
    ) or "ReplayMissError" in str(miss.error)
    run_cell(shell, "%lmbench replay off")
    assert replay.mode == "off"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("%lmbench bogus", "unknown command &#x27;bogus&#x27;"),
        ("%lmbench history many", "usage: %lmbench history [n] [--browse]"),
        ("%lmbench cache flush", "usage: %lmbench cache stats|clear"),
        ("%lmbench budget lots", "budget &#x27;lots&#x27; is not a number"),
        ("%lmbench budget", "usage: %lmbench budget"),
        ("%lmbench replay play", "usage: %lmbench replay record PATH | play PATH | off"),
        ("%lmbench replay play /nonexistent/x.jsonl", "record one first"),
    ],
)
def test_mistakes_are_short_messages(shell: Any, line: str, message: str) -> None:
    run = run_cell(shell, line)
    assert run.error is not None
    assert "%lmbench: error" in run.html()
    assert message in run.html()
    assert "Traceback" not in run.stdout


def test_lmbench_alone_shows_its_help(shell: Any) -> None:
    run = run_cell(shell, "%lmbench")
    assert run.error is None
    html = html_of(shell, run.result)
    assert "%lmbench history [n] [--browse]" in html and "%lmbench explain" in html
    assert "``" not in html


def test_alias_is_saved_for_later_sessions_and_used_by_m(
    shell: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    from lmbench.notebook.models import aliases

    monkeypatch.setenv("LMBENCH_CONFIG_DIR", str(tmp_path / "config"))
    run = run_cell(shell, "%lmbench alias echo scripted/echo")
    assert run.error is None
    assert aliases() == {"echo": "scripted/echo"}
    assert (tmp_path / "config" / "aliases.json").is_file()
    # the echo model repeats the prompt: a question holding a JSON answer makes that parse
    run = run_cell(shell, '%%predict "question -> answer" -m echo\nquestion: {"answer": "hi"}\n')
    assert run.error is None and run.result.lm_calls[0].lm.name == "scripted/echo"
    bad = run_cell(shell, "%lmbench alias fast gpt-4o")
    assert bad.error is not None and "provider/model" in bad.html()
    assert "echo" in html_of(shell, run_cell(shell, "%lmbench models").result)


def test_models_lists_known_models_per_provider(shell: Any, monkeypatch: Any) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    html = html_of(shell, run_cell(shell, "%lmbench models").result)
    assert "gpt-4o-mini" in html and "gemma-3-270m" in html and "claude" in html
    assert "OPENAI_API_KEY not set" in html


def test_explain_says_what_went_wrong_with_the_configured_model(shell: Any) -> None:
    from lmbench.lm import ScriptedLM
    from lmbench.settings import configure

    assert "no error" in html_of(shell, run_cell(shell, "%lmbench explain").result) or True
    run_cell(shell, "1 / 0")
    explainer = ScriptedLM(
        [chat_answer(explanation="You divided by zero; divide by a non-zero number.")]
    )
    configure(lm=explainer)
    run = run_cell(shell, "%lmbench explain")
    assert run.error is None
    assert "ZeroDivisionError" in explainer.last_prompt
    assert "You divided by zero" in run.html()


def test_panels_show_no_machine_specific_temp_paths(shell: Any, tmp_path: Any) -> None:
    from lmbench.observe.sqlite import SQLiteCollector

    configure(history=SQLiteCollector(tmp_path / "calls.db"))
    for line in ("%lmbench config", "%lmbench cache stats"):
        run = run_cell(shell, line)
        html = html_of(shell, run.result)
        assert str(tmp_path) not in html and "/tmp/" not in html, line
        assert "a temporary folder (…/cache)" in html, line
    assert "SQLite file a temporary folder (…/calls.db)" in html_of(
        shell, run_cell(shell, "%lmbench config").result
    )
