"""Import time and per-call overhead of Predict / ChainOfThought with the scripted LM, cache off.

Targets: ``import lmbench`` < 150 ms; Predict < 60 us and ChainOfThought < 80 us per call.
Run: ``.venv/bin/python benchmarks/bench_core.py``
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from lmbench.adapters.parse_memo import KEPT


def import_time_ms(runs: int = 7) -> float:
    """Median time for a fresh interpreter to run ``import lmbench``, measured inside it."""
    code = "import time; t = time.perf_counter(); import lmbench; print(time.perf_counter() - t)"
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], check=True, capture_output=True, text=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(times) * 1000


def per_call_us(module_factory, inputs: dict, answer: str, calls: int = 5000) -> float:
    """Best-of-3 mean time of one call, the scripted LM answering a different text each call
    (``answer`` with a number in it), as a real model would: no parse is reused."""
    import lmbench

    answers = [answer.replace("4", str(4 + i)) for i in range(4 * KEPT)]
    lm = lmbench.ScriptedLM(answers, repeat=True)
    module = module_factory(lm)
    with lmbench.context(cache=False):
        for _ in range(200):  # warm-up: caches of compiled prompts and validators
            module(**inputs)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            for _ in range(calls):
                module(**inputs)
            best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main() -> None:
    import lmbench

    print(f"import lmbench: {import_time_ms():.1f} ms (target < 150 ms)")
    predict = per_call_us(
        lambda lm: lmbench.Predict("question -> answer", lm=lm, adapter="chat"),
        {"question": "What is 2+2?"},
        "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]",
    )
    print(f"Predict per call: {predict:.1f} us (target < 60 us)")
    cot = per_call_us(
        lambda lm: lmbench.ChainOfThought("question -> answer", lm=lm, adapter="chat"),
        {"question": "What is 2+2?"},
        "[[ ## reasoning ## ]]\n2 and 2 make 4.\n\n[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]",
    )
    print(f"ChainOfThought per call: {cot:.1f} us (target < 80 us)")


if __name__ == "__main__":
    main()
