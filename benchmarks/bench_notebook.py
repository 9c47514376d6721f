"""Figures for the notebook layer: rendering a prediction, a 1,000-row history table, and a
``%%predict`` cell on a scripted model (the magic's own overhead, no real model)."""

from __future__ import annotations

import os
import tempfile
import time

os.environ.setdefault("LMBENCH_CACHE_DIR", tempfile.mkdtemp(prefix="lmbench-bench-"))

import lmbench
from lmbench.lm import ScriptedLM
from lmbench.notebook.render import html_for
from lmbench.notebook.render_history import entries_html
from lmbench.observe import MemoryCollector

ANSWER = "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"


def per_call(label: str, repeat: int, run: object) -> None:
    start = time.perf_counter()
    for _ in range(repeat):
        run()  # type: ignore[operator]
    elapsed = (time.perf_counter() - start) / repeat
    print(f"{label:<44} {elapsed * 1e3:8.3f} ms")


def main() -> None:
    memory = MemoryCollector()
    lmbench.configure(lm=ScriptedLM([], default=ANSWER), history=memory)
    qa = lmbench.Predict("question -> answer: int")
    prediction = qa(question="How many legs has a dog?")
    per_call("render a prediction (HTML)", 500, lambda: html_for(prediction))
    for _ in range(1000):
        qa(question="again")
    entries = memory.entries()
    per_call(f"render a history table ({len(entries)} entries)", 5, lambda: entries_html(entries))

    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "lmbench")
    cell = "question: How many legs has a dog?\n"
    per_call(
        "%%predict cell, scripted model",
        200,
        lambda: shell.run_cell_magic("predict", '"question -> answer: int"', cell),
    )
    per_call(
        "Predict call alone, scripted model", 200, lambda: qa(question="How many legs has a dog?")
    )


if __name__ == "__main__":
    main()
