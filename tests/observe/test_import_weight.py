"""The seam stays light: a scripted call loads no price data, disk cache, pandas or tracing."""

from __future__ import annotations

from pathlib import Path

from import_probe import modules_after

LAZY = ["pandas", "numpy", "diskcache", "genai_prices", "opentelemetry", "sqlite3"]


def test_a_scripted_call_loads_nothing_it_does_not_need(tmp_path: Path) -> None:
    code = (
        "from lmbench.lm import LMRequest, Message, ScriptedLM\n"
        "from lmbench.calls import lm_call, module_call\n"
        "from lmbench.observe import history\n"
        "with module_call('Predict'), lm_call(ScriptedLM(['x']), LMRequest(messages=(Message('user', 'q'),))) as c:\n"
        "    c.run()\n"
        "assert len(history) == 1\n"
    )
    loaded = modules_after(code, env={"LMBENCH_CACHE_DIR": str(tmp_path / "cache")})
    assert [m for m in LAZY if m in loaded] == []
