"""The history object: last, filter, inspect, cost roll-ups, frame, tree, clear."""

from __future__ import annotations

import io
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import genai_prices
import pytest

from lmbench.calls import lm_call, module_call
from lmbench.errors import ConfigError, ProviderError
from lmbench.lm import Attempt, BaseLM, LMRequest, LMResponse, Message, ScriptedLM, Usage
from lmbench.observe import CallHistory as History
from lmbench.observe import MemoryCollector, history
from lmbench.observe.frame import COLUMNS


class PaidLM(BaseLM):
    provider, model = "openai", "gpt-4o-mini"
    reported = "gpt-4o-mini-2024-07-18"
    cacheable = False

    def generate(self, request: LMRequest) -> LMResponse:
        return LMResponse(
            texts=["Paris"],
            model=self.reported,
            usage=Usage(100, 10, cached_tokens=40),
            finish_reason="stop",
            attempts=[
                Attempt(1, 429, "rate limited", 1.5, "retry-after"),
                Attempt(2, 200, None, 0.0, "ok"),
            ],
        )


class FailingLM(BaseLM):
    provider, model = "anthropic", "claude-3-5-haiku-latest"

    def generate(self, request: LMRequest) -> LMResponse:
        raise ProviderError("bad request", provider="anthropic", status=400)


def _request(text: str) -> LMRequest:
    return LMRequest(messages=(Message("system", "Be brief."), Message("user", text)))


def _record_some() -> None:
    with (
        module_call("Predict", signature="question -> answer"),
        lm_call(PaidLM(), _request("Capital of France?"), adapter="ChatAdapter") as call,
    ):
        call.run()
        call.set_parse(
            adapter="ChatAdapter", diagnostics=[{"message": "added the completed marker"}]
        )
    with (
        module_call("Summarize"),
        lm_call(ScriptedLM(["short"]), _request("Summarize this.")) as call,
    ):
        call.run()
    with (
        pytest.raises(ProviderError),
        module_call("Predict"),
        lm_call(FailingLM(), _request("x")) as call,
    ):
        call.run()


def _paid_cost() -> float:
    usage = genai_prices.Usage(input_tokens=100, output_tokens=10, cache_read_tokens=40)
    return float(
        genai_prices.calc_price(usage, "gpt-4o-mini-2024-07-18", provider_id="openai").total_price
    )


def test_len_iteration_and_last() -> None:
    _record_some()
    assert len(history) == 3
    assert [e.model for e in history] == ["gpt-4o-mini", "test", "claude-3-5-haiku-latest"]
    assert [e.model for e in history.last(2)] == ["test", "claude-3-5-haiku-latest"]
    assert history.last(0) == []
    assert [e.module for e in history.last(5, kind="module")] == ["Predict", "Summarize", "Predict"]
    assert history[-1].error == "ProviderError: anthropic HTTP 400: bad request"


def test_filter() -> None:
    _record_some()
    assert [e.model for e in history.filter(module="Predict")] == [
        "gpt-4o-mini",
        "claude-3-5-haiku-latest",
    ]
    assert [e.model for e in history.filter(model="openai/gpt-4o-mini")] == ["gpt-4o-mini"]
    assert [e.model for e in history.filter(model="gpt-4o-mini-2024-07-18")] == ["gpt-4o-mini"]
    assert [e.provider for e in history.filter(errors_only=True)] == ["anthropic"]
    assert len(history.filter(since=timedelta(minutes=1))) == 3
    assert history.filter(since=datetime.now(timezone.utc) + timedelta(seconds=5)) == []
    assert history.filter(until=time.time() - 60) == []
    with pytest.raises(ConfigError, match="since='yesterday'"):
        history.filter(since="yesterday")  # type: ignore[arg-type]


def test_inspect_prints_the_calls_readably() -> None:
    _record_some()
    out = io.StringIO()
    history.inspect(3, file=out)
    text = out.getvalue()
    assert "call 1 of 3" in text and "call 3 of 3" in text
    assert "Predict [question -> answer]" in text
    assert (
        "model openai/gpt-4o-mini (used gpt-4o-mini-2024-07-18) · adapter ChatAdapter · cache off"
        in text
    )
    assert "tokens 100 in (40 cached) / 10 out" in text
    assert f"cost ${_paid_cost():.6f}" in text
    assert "2 attempts" in text
    assert "[system]\nBe brief.\n\n[user]\nCapital of France?" in text
    assert "[response]\nParis" in text
    assert "[repairs] 1 by ChatAdapter:\n  - repair: added the completed marker" in text
    assert "[retry] attempt 1: 429 rate limited -> waited 1.50 s (retry-after)" in text
    assert "[error] ProviderError: anthropic HTTP 400: bad request" in text
    last_only = io.StringIO()
    history.inspect(file=last_only)
    assert "call 3 of 3" in last_only.getvalue() and "call 2 of 3" not in last_only.getvalue()


def test_inspect_never_prints_terminal_control_characters() -> None:
    hostile = "ok\x1b[2J\x1b]0;pwned\x07\rhidden\u202eevil\x00\x9b\tkept\nline two"
    with lm_call(ScriptedLM([hostile]), _request("say \x1b[31mred")) as call:
        call.run()
    out = io.StringIO()
    history.inspect(file=out)
    text = out.getvalue()
    for raw in ("\x1b", "\x07", "\r", "\u202e", "\x00", "\x9b"):
        assert raw not in text
    assert "ok\\x1b[2J\\x1b]0;pwned\\x07\\rhidden\\u202eevil\\x00\\x9b\tkept\nline two" in text
    assert "say \\x1b[31mred" in text


def test_inspect_on_an_empty_history() -> None:
    out = io.StringIO()
    history.inspect(file=out)
    assert out.getvalue() == "history is empty: no LM call was recorded yet\n"


def test_cost_rolls_up_per_model_module_and_session() -> None:
    _record_some()
    unknown = type(
        "UnknownLM", (PaidLM,), {"model": "unknown-model-xyz", "reported": "unknown-model-xyz"}
    )
    with module_call("Predict"), lm_call(unknown(), _request("y")) as call:
        call.run()
    report = history.cost()
    paid = _paid_cost()
    assert report.calls == 4
    assert report.total_usd == pytest.approx(paid)
    assert report.known is False and report.unpriced_calls == 1
    assert report.by_model == {
        "openai/gpt-4o-mini": pytest.approx(paid),
        "scripted/test": 0.0,
        "anthropic/claude-3-5-haiku-latest": 0.0,
        "openai/unknown-model-xyz": None,
    }
    assert report.by_module == {"Predict": None, "Summarize": 0.0}
    (session,) = report.by_session
    assert report.by_session[session] is None
    assert str(report).startswith("4 calls (0 from cache, saved $0.000000)")
    assert "+ 1 unpriced call\n" in str(report)


def test_frame_has_one_row_a_call_with_flat_columns() -> None:
    _record_some()
    frame = history.frame()
    assert list(frame.columns) == list(COLUMNS)
    assert len(frame) == 3
    first = frame.iloc[0]
    assert (first["module"], first["model"], first["response_model"]) == (
        "Predict",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
    )
    assert (
        first["input_tokens"],
        first["output_tokens"],
        first["cached_tokens"],
        first["total_tokens"],
    ) == (100, 10, 40, 110)
    assert first["cost_usd"] == pytest.approx(_paid_cost())
    assert (first["attempts"], first["n_diagnostics"], first["text"], first["cache"]) == (
        2,
        1,
        "Paris",
        "off",
    )
    assert str(frame["timestamp"].dtype).startswith("datetime64")
    assert frame["error"].tolist()[2].startswith("ProviderError")
    assert len(history.frame(kind="module")) == 3


def test_tree_rebuilds_a_run_from_entries() -> None:
    with module_call("Program") as root:
        with module_call("Predict"), lm_call(ScriptedLM(["a"]), _request("1")) as call:
            call.run()
        with lm_call(ScriptedLM(["b"]), _request("2")) as call:
            call.run()
    tree = history.tree(root.call_id)
    assert tree["module"] == "Program"
    assert [c["kind"] for c in tree["children"]] == ["module", "lm"]
    assert tree["children"][0]["children"][0]["model"] == "test"
    with pytest.raises(KeyError, match="no history entry"):
        history.tree("missing")


def test_clear_and_a_fixed_history() -> None:
    _record_some()
    history.clear()
    assert len(history) == 0
    memory = MemoryCollector()
    fixed = History(memory)
    assert len(fixed) == 0 and "0 LM calls" in repr(fixed)


def test_inspect_shows_rule_shaped_repairs() -> None:
    with lm_call(ScriptedLM(["4"]), _request("2+2?"), adapter="ChatAdapter") as call:
        call.run()
        call.set_parse(
            adapter="ChatAdapter",
            diagnostics=[
                {"rule": "missing_completed", "field": None, "detail": "no completed marker"},
                {"rule": "coerced", "field": "answer", "detail": "'4.0' -> 4", "span": [0, 3]},
            ],
        )
    out = io.StringIO()
    history.inspect(file=out)
    assert "  - missing_completed: no completed marker\n" in out.getvalue()
    assert "  - coerced [answer]: '4.0' -> 4 (span=[0, 3])\n" in out.getvalue()


def test_a_loaded_history_names_the_file_it_came_from(tmp_path: Path) -> None:
    import lmbench
    from lmbench.lm import ScriptedLM
    from lmbench.observe import load_history
    from lmbench.observe.sqlite import SQLiteCollector

    collector = SQLiteCollector(tmp_path / "calls.db")
    with lmbench.context(history=collector):
        reply = "[[ ## answer ## ]]\n1\n\n[[ ## completed ## ]]"
        lmbench.Predict("q -> answer", lm=ScriptedLM([reply]))(q="x")
    collector.close()
    loaded = load_history(tmp_path / "calls.db")
    assert repr(loaded) == "<CallHistory 1 LM calls loaded from the SQLite file calls.db>"
    assert "MemoryCollector" not in repr(loaded)
