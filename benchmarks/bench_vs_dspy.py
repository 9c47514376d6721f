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

from bench_http_path import RESPONSE
from loopback_server import serve, start_server

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
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


def startup_figures(code: str, cache_dir: str, runs: int = 7) -> list[float]:
    """Best milliseconds for a fresh interpreter to run ``code`` (imports included), and MB
    of resident memory after it."""
    timed = (
        "import time\nstart = time.perf_counter()\n"
        + code
        + "\nseconds = time.perf_counter() - start\n"
        "rss = next(l for l in open('/proc/self/status') if l.startswith('VmRSS'))\n"
        "print(seconds * 1000, int(rss.split()[1]) / 1024)"
    )
    env = child_env(cache_dir, bytecode=True)
    best = [float("inf"), float("inf")]
    for _ in range(runs + 1):  # the first run writes bytecode
        out = subprocess.run(
            [sys.executable, "-c", timed], env=env, cwd=ROOT, check=True, capture_output=True
        )
        figures = [float(x) for x in out.stdout.split()[-2:]]
        best = [min(b, f) for b, f in zip(best, figures, strict=True)]
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


class Table:
    """Prints the table a row at a time, each job run for both libraries."""

    def __init__(self, cache_dir: str) -> None:
        self.cache_dir = cache_dir
        print("| job | lmbench | DSPy | DSPy / lmbench |\n| --- | --- | --- | --- |", flush=True)

    def rows(self, labels: list[str], unit: str, figures: list[Any]) -> None:
        """One row per label: a job returns one figure, or one per label."""
        for index, label in enumerate(labels):
            pair = [None if f is None else f[index] if isinstance(f, list) else f for f in figures]
            print(row(label, unit, *pair), flush=True)

    def job(self, labels: list[str], unit: str, name: str, *args: Any) -> None:
        self.rows(labels, unit, [job(lib, name, list(args), self.cache_dir) for lib in LIBRARIES])

    def startup(self, labels: list[str], name: str, url: str = "") -> None:
        from vs_dspy_jobs import STARTUP

        figures = [
            startup_figures(STARTUP[lib][name].replace("{url}", url), self.cache_dir)
            for lib in LIBRARIES
        ]
        self.rows(labels[:1], "ms", figures)
        self.rows(labels[1:], "MB", [f[1:] for f in figures])


WALL_CPU = ["", ", CPU of the process"]


def main(quick: bool) -> None:
    rows = 200 if quick else 1000
    table = Table(tempfile.mkdtemp(prefix="bench-vs-dspy-"))
    table.startup(["`import` (fresh interpreter)", "RSS after `import`"], "import")
    table.startup(["import + first Predict call, scripted model"], "first_call")
    table.job(["Signature from a string"], "us", "sig_string")
    table.job(["Signature from a class"], "us", "sig_class")
    table.job(["Predict, scripted model (new answer each call)"], "us", "predict")
    table.job(["Predict, cache hit"], "us", "cached")
    table.job(["ChainOfThought, scripted model"], "us", "cot")
    fast, port = start_server(__file__)
    try:
        url = f"http://127.0.0.1:{port}/v1"
        table.startup(
            ["import + first Predict call over HTTP", "RSS after the first HTTP call"],
            "first_http",
            url,
        )
        table.job([f"Predict over HTTP (loopback){s}" for s in WALL_CPU], "us", "http", url)
        table.job([f"Predict over HTTP, async{s}" for s in WALL_CPU], "us", "http_async", url)
        table.job(["100 async Predict calls at once"], "ms", "http_gather", url)
        table.job(
            ["memory kept per call", "memory allocated at the peak of a call"],
            "KB",
            "memory",
            url,
        )
    finally:
        fast.kill()
        fast.wait()
    slow, slow_url = start_slow_server()
    try:
        ideal = f"ideal {rows * DELAY / THREADS:.2f} s"
        for name in ("batch", "evaluate"):
            labels = [f"{name} {rows:,} rows, 50 ms server, {THREADS} threads ({ideal})"]
            table.job([*labels, f"{name}, CPU of the process"], "s", name, slow_url, THREADS, rows)
    finally:
        slow.kill()
        slow.wait()
    table.job(
        [f"evaluate {rows:,} rows, scripted model, 1 thread (per row){s}" for s in WALL_CPU],
        "us",
        "evaluate_scripted",
        rows,
    )


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
