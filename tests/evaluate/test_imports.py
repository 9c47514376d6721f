"""Evaluation stays in the core: no pandas, plotly, IPython or Dask until they are asked for."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LAZY = ["pandas", "plotly", "IPython", "ipywidgets", "distributed", "dask", "tqdm"]


def test_an_evaluation_on_threads_loads_nothing_it_does_not_need(tmp_path: Path) -> None:
    script = (
        "import json, sys, lmbench\n"
        "lm = lmbench.ScriptedLM(['[[ ## answer ## ]]\\nx\\n\\n[[ ## completed ## ]]'], repeat=True)\n"
        "qa = lmbench.Predict('question -> answer', lm=lm)\n"
        "r = lmbench.evaluate(qa, [{'question': 'q', 'answer': 'x'}], lmbench.metrics.f1, progress=False)\n"
        "assert r.score == 1.0, r\n"
        f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env={"LMBENCH_CACHE_DIR": str(tmp_path / "cache")},
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == []
