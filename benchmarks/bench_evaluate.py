"""Evaluation throughput and overhead.

1. 2,000 rows against a loopback OpenAI-compatible server (its own process) that answers
   each request after 200 ms: ``threads=64`` against the ideal (2,000 x 0.2 s / 64 = 6.25 s);
   target >= 85% of ideal throughput.
2. The same rows on a Dask ``LocalCluster`` (2 worker processes, 2 task threads each, 64
   rows in flight in all): target
   >= 80% of the threads throughput, with the same per-row outputs and scores.
3. Evaluation overhead per row over the program call itself, with the scripted model (no
   progress bar; one thread; CPU time of the thread, interleaved runs): target < 50 us.

Figures are the best of several runs. Run: ``.venv/bin/python benchmarks/bench_evaluate.py``
(``--quick`` runs 400 rows in parts 1 and 2).
"""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "evaluate"))

import lmbench  # noqa: E402
from lmbench import metrics  # noqa: E402
from lmbench.lm.registry import resolve_lm  # noqa: E402
from lmbench.lm.scripted import ScriptedLM  # noqa: E402
from lmbench.observe import MemoryCollector  # noqa: E402
from lmbench.settings import configure, context  # noqa: E402

DELAY = 0.2
THREADS = 64


def rows(count: int) -> list[dict[str, str]]:
    return [
        {"question": f"What is item {i}?", "answer": f"answer-{i}"} for i in range(1, count + 1)
    ]


def start_server() -> tuple[subprocess.Popen[str], str]:
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "evaluate" / "model_server.py"), str(DELAY)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    port = int(server.stdout.readline())
    return server, f"http://127.0.0.1:{port}/v1"


def timed(function: Any, repeats: int, clock: Any = time.perf_counter) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeats):
        configure(history=MemoryCollector(maxlen=100_000))
        started = clock()
        result = function()
        best = min(best, clock() - started)
    return best, result


def throughput(count: int, repeats: int) -> None:
    from distributed import Client, LocalCluster

    server, base_url = start_server()
    try:
        qa = lmbench.Predict(
            "question -> answer", lm=resolve_lm("openai-compatible/loop", base_url=base_url)
        )
        data = rows(count)
        ideal = count * DELAY / THREADS
        with context(cache=False):
            threads_s, on_threads = timed(
                lambda: lmbench.evaluate(
                    qa, data, metrics.exact_match, threads=THREADS, progress=False
                ),
                repeats,
            )
            print(
                f"threads={THREADS}: {count} rows in {threads_s:.2f} s, {count / threads_s:.0f} rows/s; "
                f"ideal {ideal:.2f} s -> {ideal / threads_s:.0%} of ideal throughput (target >= 85%); "
                f"score {on_threads.score:.3f}, {on_threads.totals.errors} errors"
            )
            with (
                LocalCluster(
                    n_workers=2, threads_per_worker=2, processes=True, dashboard_address=None
                ) as cluster,
                Client(cluster) as client,
            ):
                client.run(
                    lambda: __import__("lmbench.evaluate.executors.transport")
                )  # warm workers
                dask_s, on_dask = timed(
                    lambda: lmbench.evaluate(
                        qa,
                        data,
                        metrics.exact_match,
                        threads=THREADS,
                        executor=client,
                        progress=False,
                    ),
                    repeats,
                )
        same = [r.outputs for r in on_dask.rows] == [r.outputs for r in on_threads.rows] and [
            r.score for r in on_dask.rows
        ] == [r.score for r in on_threads.rows]
        print(
            f"dask LocalCluster (2 workers): {count} rows in {dask_s:.2f} s, {count / dask_s:.0f} rows/s "
            f"-> {threads_s / dask_s:.0%} of the threads throughput (target >= 80%); "
            f"per-row results identical: {same}; {on_dask.totals.errors} errors"
        )
    finally:
        server.terminate()
        server.wait()


def overhead(count: int = 2000, repeats: int = 7) -> None:
    answer = "[[ ## answer ## ]]\nanswer-1\n\n[[ ## completed ## ]]"
    qa = lmbench.Predict("question -> answer", lm=ScriptedLM([answer], repeat=True))
    data = rows(count)
    inputs = [{"question": row["question"]} for row in data]

    def direct() -> list[Any]:  # the program over the rows, keeping its predictions
        return [qa(**values) for values in inputs]

    def evaluated() -> None:
        lmbench.evaluate(qa, data, metrics.exact_match, threads=1, progress=False)

    for _ in range(2):  # warm up
        direct()
        evaluated()
    for paused in (False, True):
        # CPU time of this thread (threads=1 runs the rows inline): what evaluation itself
        # costs, without the waits of a machine shared with other busy processes
        direct_s = evaluate_s = float("inf")
        if paused:
            gc.disable()
        try:
            for _ in range(repeats):  # interleaved, so both see the same machine
                gc.collect()
                direct_s = min(direct_s, timed(direct, 1, time.thread_time)[0])
                gc.collect()
                evaluate_s = min(evaluate_s, timed(evaluated, 1, time.thread_time)[0])
        finally:
            gc.enable()
        per_row = (evaluate_s - direct_s) / count * 1e6
        print(
            f"overhead{' (garbage collector paused)' if paused else ''}: program alone "
            f"{direct_s / count * 1e6:.1f} us/row, inside evaluate {evaluate_s / count * 1e6:.1f} "
            f"us/row -> {per_row:.1f} us of evaluation per row (target < 50 us; scripted model, "
            "metric and history entry included)"
        )


if __name__ == "__main__":
    quick = "--quick" in sys.argv
    overhead()
    throughput(400 if quick else 2000, 1 if quick else 2)
