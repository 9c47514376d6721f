"""lmbench side by side with DSPy on identical work: the same jobs, the same machine, the same
interpreter, each job in a fresh process per library.

Jobs: ``import`` time (a fresh interpreter, best of several) and RSS after it; a signature
built from a string and from a class; a ``Predict`` call against a scripted model (lmbench's
``ScriptedLM``, DSPy's ``DummyLM``; a new answer each call, cache off), the same call served
from the cache, a ``ChainOfThought`` call; a ``Predict`` call over real HTTP to a keep-alive
loopback OpenAI-compatible server (sync, async one at a time, and 100 async calls at once);
the memory a call keeps and allocates (``tracemalloc``); ``batch`` and ``evaluate`` over
1,000 rows against a server that answers after 50 ms, on 16 threads (ideal: 3.1 s); and
evaluation over 1,000 rows with the scripted model on one thread.

Every figure is the best of several runs; lower is better for all of them, and the ratio is
DSPy's figure over lmbench's (above 1: lmbench is ahead). DSPy is never a dependency of
lmbench: run this with an interpreter that has both, e.g.::

    python3 -m venv /tmp/dspyvenv && /tmp/dspyvenv/bin/pip install dspy httpx -e .
    /tmp/dspyvenv/bin/python benchmarks/bench_vs_dspy.py          # --quick: 200 rows

Without DSPy the script says so and exits. ``BENCH_DSPY_ENGINE=litellm`` sends DSPy's HTTP
calls through LiteLLM instead of its default engine.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from loopback_server import http_response, serve, start_server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ANSWER = json.dumps(
    {
        "id": "chatcmpl-bench",
        "object": "chat.completion",
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]",
                },
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132},
    }
).encode()
RESPONSE = http_response(ANSWER, b"x-request-id: req-bench\r\n")
LIBRARIES = {"lmbench": "lmbench", "dspy": "DSPy"}
DELAY = 0.05
THREADS = 16


def child_env(cache_dir: str, bytecode: bool = False) -> dict[str, str]:
    """The environment of a job's process: both libraries' disk caches in a fresh folder."""
    env = dict(os.environ, LMBENCH_CACHE_DIR=cache_dir, DSPY_CACHEDIR=cache_dir)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), str(HERE)])
    if bytecode:  # an import is timed as users see it: with compiled bytecode on disk
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def import_figures(module: str, cache_dir: str, runs: int = 7) -> tuple[float, float]:
    """Best milliseconds of ``import module`` in a fresh interpreter, and MB of RSS after it."""
    code = (
        "import time; t = time.perf_counter(); import {m}; t = time.perf_counter() - t\n"
        "rss = next(l for l in open('/proc/self/status') if l.startswith('VmRSS'))\n"
        "print(t, int(rss.split()[1]) / 1024)"
    ).format(m=module)
    env = child_env(cache_dir, bytecode=True)
    best = (float("inf"), float("inf"))
    for _ in range(runs + 1):  # the first run writes bytecode
        out = subprocess.run(
            [sys.executable, "-c", code], env=env, cwd=ROOT, check=True, capture_output=True
        )
        seconds, rss = map(float, out.stdout.split())
        best = (min(best[0], seconds * 1000), min(best[1], rss))
    return best


def job(library: str, name: str, args: list[Any], cache_dir: str) -> Any:
    """Run one job of one library in a fresh interpreter; its figure."""
    out = subprocess.run(
        [sys.executable, __file__, "--job", library, name, json.dumps(args)],
        env=child_env(cache_dir),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        print(f"  {LIBRARIES[library]} {name} failed:\n{out.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(out.stdout.splitlines()[-1])


def start_slow_server() -> tuple[subprocess.Popen[str], str]:
    """The evaluation tests' model server (answers ``answer-N`` to ``item N``) after 50 ms."""
    server = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "evaluate" / "model_server.py"), str(DELAY)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None
    return server, f"http://127.0.0.1:{int(server.stdout.readline())}/v1"


def row(label: str, unit: str, ours: float | None, theirs: float | None) -> str:
    def shown(value: float | None) -> str:
        return "failed" if value is None else f"{value:,.1f} {unit}"

    ratio = f"{theirs / ours:.1f}x" if ours and theirs else "-"
    return f"| {label} | {shown(ours)} | {shown(theirs)} | {ratio} |"


def main(quick: bool) -> None:
    rows = 200 if quick else 1000
    tmp = tempfile.mkdtemp(prefix="bench-vs-dspy-")
    lines = ["| job | lmbench | DSPy | DSPy / lmbench |", "| --- | --- | --- | --- |"]

    def emit(line: str) -> None:
        lines.append(line)
        print(line, flush=True)

    print(lines[0], lines[1], sep="\n", flush=True)
    imports = {lib: import_figures(lib, tmp) for lib in LIBRARIES}
    emit(row("`import` (fresh interpreter)", "ms", imports["lmbench"][0], imports["dspy"][0]))
    emit(row("RSS after `import`", "MB", imports["lmbench"][1], imports["dspy"][1]))

    def both(label: str, unit: str, name: str, *args: Any, pick: int | None = None) -> None:
        figures = [job(lib, name, list(args), tmp) for lib in LIBRARIES]
        if pick is not None:
            figures = [None if f is None else f[pick] for f in figures]
        emit(row(label, unit, *figures))

    both("Signature from a string", "us", "sig_string")
    both("Signature from a class", "us", "sig_class")
    both("Predict, scripted model", "us", "predict")
    both("Predict, cache hit", "us", "cached")
    both("ChainOfThought, scripted model", "us", "cot")
    fast, port = start_server(__file__)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        both("Predict over HTTP (loopback)", "us", "http", url)
        both("Predict over HTTP, async", "us", "http_async", url)
        both("100 async Predict calls at once", "ms", "http_gather", url)
        both("memory kept per call", "KB", "memory", url, pick=0)
        both("memory allocated at peak of a call", "KB", "memory", url, pick=1)
    finally:
        fast.kill()
        fast.wait()
    slow, slow_url = start_slow_server()
    try:
        ideal = rows * DELAY / THREADS
        both(f"batch {rows:,} rows, 50 ms, {THREADS} threads (ideal {ideal:.2f} s)", "s",
             "batch", slow_url, THREADS, rows)
        both(f"evaluate {rows:,} rows, 50 ms, {THREADS} threads", "s",
             "evaluate", slow_url, THREADS, rows)
    finally:
        slow.kill()
        slow.wait()
    both(f"evaluate {rows:,} rows, scripted, 1 thread (per row)", "us", "evaluate_scripted", rows)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve(RESPONSE)
    elif sys.argv[1:2] == ["--job"]:
        from vs_dspy_jobs import run_job

        print(json.dumps(run_job(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]))))
    elif importlib.util.find_spec("dspy") is None:
        print(
            "bench_vs_dspy: skipped, dspy is not importable in this interpreter "
            f"({sys.executable}). DSPy is never a dependency of lmbench: make a separate venv "
            "with `pip install dspy httpx -e .` and run this script with its python."
        )
    else:
        main(quick="--quick" in sys.argv[1:])
