"""Evaluation stays in the core: no pandas, plotly, IPython or Dask until they are asked for."""

from __future__ import annotations

from pathlib import Path

from import_probe import modules_after

LAZY = ["pandas", "plotly", "IPython", "ipywidgets", "distributed", "dask", "tqdm"]


def test_an_evaluation_on_threads_loads_nothing_it_does_not_need(tmp_path: Path) -> None:
    code = (
        "import lmbench\n"
        "lm = lmbench.ScriptedLM(['[[ ## answer ## ]]\\nx\\n\\n[[ ## completed ## ]]'], repeat=True)\n"
        "qa = lmbench.Predict('question -> answer', lm=lm)\n"
        "r = lmbench.evaluate(qa, [{'question': 'q', 'answer': 'x'}], lmbench.metrics.f1, progress=False)\n"
        "assert r.score == 1.0, r\n"
    )
    loaded = modules_after(code, env={"LMBENCH_CACHE_DIR": str(tmp_path / "cache")})
    assert [m for m in LAZY if m in loaded] == []
