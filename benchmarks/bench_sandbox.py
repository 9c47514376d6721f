"""The code sandbox: start-up and a warm run.

Targets: a sandbox starts (Deno up, Pyodide loaded, ready for code) in < 4 s on 2 cores; a warm
run of a trivial snippet, end to end through the protocol, < 20 ms. Also shows a run that prints
and returns a value, a tool call's round trip back into the host, and a start without the
memory snapshot (what a start costs when ``python -m lmbench.sandbox install`` could not write
one), and what ``reset()`` (a new interpreter) adds to the next run, right away and after the
new worker had time to start. Run: ``.venv/bin/python benchmarks/bench_sandbox.py``
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from unittest import mock

from lmbench.sandbox import Sandbox
from lmbench.sandbox import process as worker_process


def report(name: str, value: float, target: float | None, unit: str) -> None:
    verdict = (
        "" if target is None else ("  ok" if value < target else f"  OVER target {target:g} {unit}")
    )
    print(f"{name:<56} {value:10.2f} {unit}{verdict}")


def start_seconds(repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        began = time.perf_counter()
        sandbox = Sandbox().start()
        times.append(time.perf_counter() - began)
        sandbox.close()
    return times


def run_ms(sandbox: Sandbox, code: str, n: int, **kwargs: object) -> tuple[float, float]:
    """Best and median time of one run of ``code``, in milliseconds."""
    sandbox.run(code, **kwargs)  # type: ignore[arg-type]
    times = []
    for _ in range(n):
        began = time.perf_counter()
        sandbox.run(code, **kwargs)  # type: ignore[arg-type]
        times.append((time.perf_counter() - began) * 1000)
    return min(times), statistics.median(times)


def without_snapshot(fn: Callable[[], list[float]]) -> list[float]:
    real = worker_process.snapshot_path

    def missing(directory: object = None) -> object:
        return real(directory).with_name("no-snapshot-here")  # type: ignore[arg-type]

    with mock.patch.object(worker_process, "snapshot_path", missing):
        return fn()


def reset_then_run_seconds(sandbox: Sandbox, repeats: int) -> list[float]:
    """A reset right before a run: the run waits for the new worker to start."""
    times = []
    for _ in range(repeats):
        sandbox.run("x = 1")
        began = time.perf_counter()
        sandbox.reset()
        sandbox.run("1 + 1")
        times.append(time.perf_counter() - began)
    return times


def warm_resets(repeats: int) -> list[float]:
    """What a module's own sandbox costs per call: reset as the last call ended, then other
    work (the model writing code) while the new worker starts."""
    times = []
    with Sandbox() as sandbox:
        for _ in range(repeats):
            sandbox.run("x = 1")
            sandbox.reset()
            time.sleep(1.0)
            began = time.perf_counter()
            sandbox.reset()  # the module's own reset before the call: nothing to do
            sandbox.run("1 + 1")
            times.append(time.perf_counter() - began)
    return times


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def main() -> None:
    print("lmbench sandbox benchmarks (Deno + Pyodide; best of several)")
    starts = start_seconds(5)
    report("sandbox start, best of 5", min(starts), 4.0, "s")
    report("sandbox start, median of 5", statistics.median(starts), None, "s")
    cold = without_snapshot(lambda: start_seconds(1))
    report("sandbox start without the memory snapshot (one)", min(cold), None, "s")
    with Sandbox() as sandbox:
        best, median = run_ms(sandbox, "1 + 1", 200)
        report("warm run of `1 + 1`, best of 200", best, 20.0, "ms")
        report("warm run of `1 + 1`, median of 200", median, 20.0, "ms")
        best, median = run_ms(sandbox, "print('x' * 1000)\n[i * i for i in range(100)]", 200)
        report("warm run printing 1 kB and returning a list, median", median, None, "ms")
        best, median = run_ms(sandbox, "add(2, 3)", 200, tools=[add])
        report("warm run with one tool call into the host, median", median, None, "ms")
        resets = reset_then_run_seconds(sandbox, 5)
        report("reset (a new interpreter) then a run, best of 5", min(resets), None, "s")
        report(
            "reset then a run after 1 s of other work, best of 5", min(warm_resets(5)), None, "s"
        )


if __name__ == "__main__":
    main()
