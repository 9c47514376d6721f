"""Importing lmbench stays light: no heavy or Jupyter libraries, no local model runtime."""

from __future__ import annotations

from import_probe import modules_after

HEAVY = ["pandas", "numpy", "IPython", "plotly", "ipywidgets", "llama_cpp", "jupyterlab", "tqdm"]


def test_import_lmbench_loads_no_heavy_module() -> None:
    loaded = modules_after("import lmbench")
    assert not [m for m in HEAVY if m in loaded]


def test_building_and_calling_a_predict_loads_no_heavy_module() -> None:
    code = (
        "import lmbench\n"
        "lm = lmbench.ScriptedLM(['[[ ## answer ## ]]\\n4\\n\\n[[ ## completed ## ]]'])\n"
        "p = lmbench.Predict('question -> answer: int', lm=lm)\n"
        "assert p(question='2+2?').answer == 4"
    )
    loaded = modules_after(code)
    assert not [m for m in HEAVY if m in loaded]


def test_a_predict_call_loads_no_module_it_does_not_use() -> None:
    code = (
        "import lmbench\n"
        "lm = lmbench.ScriptedLM(['[[ ## answer ## ]]\\n4\\n\\n[[ ## completed ## ]]'])\n"
        "assert lmbench.Predict('question -> answer', lm=lm)(question='2+2?').answer == '4'"
    )
    loaded = modules_after(code)
    unused = [
        "lmbench.modules.react",
        "lmbench.modules.knn",
        "lmbench.modules.code_act",
        "lmbench.retrieval",
        "lmbench.sandbox",
        "importlib.metadata",  # read only when provider plugins are looked for
    ]
    assert not [m for m in unused if m in loaded]
    assert "lmbench.modules.predict" in loaded
