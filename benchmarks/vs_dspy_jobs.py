"""The jobs of ``bench_vs_dspy.py``, written once per library on identical work.

``LmbenchJobs`` and ``DspyJobs`` have the same methods; each returns a figure (the best of
several runs) for one job. A job runs in its own fresh interpreter (``run_job``), so one
library's imports, caches and threads never touch the other's figures.
"""

from __future__ import annotations

import asyncio
import gc
import os
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

KEY = "sk-bench-0123456789abcdefghijklmnop"
ANSWER = "[[ ## answer ## ]]\n{n}\n\n[[ ## completed ## ]]"
COT_ANSWER = (
    "[[ ## reasoning ## ]]\n2 and 2 make {n}.\n\n[[ ## answer ## ]]\n{n}\n\n[[ ## completed ## ]]"
)
# Many short timed runs, the best kept: on a shared machine the least disturbed window says
# most about the code (a few long runs all catch some of the other load).
RUNS = 15


def best_us(call: Callable[[], object], calls: int, runs: int = RUNS) -> list[float]:
    """Best-of-``runs`` mean microseconds of ``call`` (after a warm-up): wall clock, and the
    CPU time of this process (every thread), which other load on the machine disturbs less."""
    for _ in range(200):
        call()
    wall = cpu = float("inf")
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        for _ in range(calls):
            call()
        wall = min(wall, (time.perf_counter() - start) / calls * 1e6)
        cpu = min(cpu, (time.process_time() - start_cpu) / calls * 1e6)
    return [wall, cpu]


def abest_us(call: Callable[[], Awaitable[object]], calls: int, runs: int = RUNS) -> list[float]:
    """The async twin of ``best_us``: sequential awaits on one event loop."""

    async def main() -> list[float]:
        for _ in range(100):
            await call()
        wall = cpu = float("inf")
        for _ in range(runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            for _ in range(calls):
                await call()
            wall = min(wall, (time.perf_counter() - start) / calls * 1e6)
            cpu = min(cpu, (time.process_time() - start_cpu) / calls * 1e6)
        return [wall, cpu]

    return asyncio.run(main())


def agather_ms(call: Callable[[], Awaitable[object]], concurrent: int, runs: int = RUNS) -> float:
    """Best-of-``runs`` milliseconds for ``concurrent`` calls awaited together."""

    async def main() -> float:
        await asyncio.gather(*(call() for _ in range(concurrent)))
        best = float("inf")
        for _ in range(runs):
            start = time.perf_counter()
            await asyncio.gather(*(call() for _ in range(concurrent)))
            best = min(best, time.perf_counter() - start)
        return best * 1e3

    return asyncio.run(main())


def best_s(run: Callable[[], object], runs: int) -> list[float]:
    """Best-of-``runs`` seconds of one whole run: wall clock and CPU of this process."""
    wall = cpu = float("inf")
    for _ in range(runs):
        gc.collect()
        start, start_cpu = time.perf_counter(), time.process_time()
        run()
        wall = min(wall, time.perf_counter() - start)
        cpu = min(cpu, time.process_time() - start_cpu)
    return [wall, cpu]


def memory_kb(call: Callable[[], object], calls: int = 1000) -> list[float]:
    """KB a call keeps alive (history and the like) and KB allocated at the peak of a call,
    measured with ``tracemalloc`` after a warm-up."""
    for _ in range(50):
        call()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for _ in range(calls):
        call()
    gc.collect()
    kept = (tracemalloc.get_traced_memory()[0] - before) / calls / 1024
    tracemalloc.reset_peak()
    start = tracemalloc.get_traced_memory()[0]
    call()
    peak = (tracemalloc.get_traced_memory()[1] - start) / 1024
    tracemalloc.stop()
    return [kept, peak]


def numbered(template: str, count: int) -> list[str]:
    """``count`` answers, each with a different number: no parse of one is reused for the next."""
    return [template.format(n=4 + i) for i in range(count)]


def question_rows(count: int) -> list[dict[str, str]]:
    return [
        {"question": f"What is item {i}?", "answer": f"answer-{i}"} for i in range(1, count + 1)
    ]


class _SignatureJobs:
    """Jobs both libraries spell the same way (``Signature``, ``InputField``, ``OutputField``)."""

    lib: Any

    def sig_string(self) -> list[float]:
        make = self.lib.Signature
        return best_us(lambda: make("question: str, context: list[str] -> answer: str"), 500)

    def sig_class(self) -> list[float]:
        lib = self.lib

        def build() -> object:
            class QA(lib.Signature):
                """Answer the question from the context."""

                question: str = lib.InputField()
                context: list[str] = lib.InputField(desc="passages")
                answer: str = lib.OutputField()

            return QA

        return best_us(build, 300)


class LmbenchJobs(_SignatureJobs):
    def __init__(self) -> None:
        import lmbench

        self.lb = self.lib = lmbench

    def _scripted(self, template: str) -> Any:
        return self.lb.ScriptedLM(numbered(template, 4096), repeat=True)

    def predict(self) -> list[float]:
        qa = self.lb.Predict("question -> answer", lm=self._scripted(ANSWER))
        with self.lb.context(cache=False):
            return best_us(lambda: qa(question="What is 2+2?"), 500)

    def cached(self) -> list[float]:
        lm = self._scripted(ANSWER)
        lm.cacheable = True
        qa = self.lb.Predict("question -> answer", lm=lm)
        return best_us(lambda: qa(question="What is 2+2?"), 500)

    def cot(self) -> list[float]:
        cot = self.lb.ChainOfThought("question -> answer", lm=self._scripted(COT_ANSWER))
        with self.lb.context(cache=False):
            return best_us(lambda: cot(question="What is 2+2?"), 500)

    def _http(self, base_url: str) -> Any:
        self.lb.configure(cache=False)
        lm = self.lb.resolve_lm("openai/gpt-4o-mini", api_key=KEY, base_url=base_url)
        return self.lb.Predict("question -> answer", lm=lm)

    def http(self, base_url: str) -> list[float]:
        qa = self._http(base_url)
        return best_us(lambda: qa(question="What is 2+2?"), 100)

    def http_async(self, base_url: str) -> list[float]:
        qa = self._http(base_url)
        return abest_us(lambda: qa.acall(question="What is 2+2?"), 100)

    def http_gather(self, base_url: str) -> float:
        qa = self._http(base_url)
        return agather_ms(lambda: qa.acall(question="What is 2+2?"), 100, runs=10)

    def memory(self, base_url: str) -> list[float]:
        qa = self._http(base_url)
        return memory_kb(lambda: qa(question="What is 2+2?"))

    def batch(self, base_url: str, threads: int, rows: int) -> list[float]:
        qa = self._http(base_url)
        data = [{"question": r["question"]} for r in question_rows(rows)]

        def run() -> None:
            result = self.lb.batch(qa, data, threads=threads, progress=False)
            assert result[0].answer == "answer-1" and not result.errors

        return best_s(run, 3)

    def evaluate(self, base_url: str, threads: int, rows: int) -> list[float]:
        qa = self._http(base_url)
        data = question_rows(rows)

        def run() -> None:
            result = self.lb.evaluate(qa, data, "exact_match", threads=threads, progress=False)
            assert abs(result.score - 0.8) < 1e-9, result.score

        return best_s(run, 3)

    def evaluate_scripted(self, rows: int) -> list[float]:
        """Evaluation over ``rows`` with the scripted model on one thread: microseconds a row
        (wall clock and CPU)."""
        answers = [ANSWER.format(n=f"answer-{r}") for r in range(1, rows + 1)]
        data = question_rows(rows)

        def run() -> None:
            qa = self.lb.Predict("question -> answer", lm=self.lb.ScriptedLM(answers))
            result = self.lb.evaluate(qa, data, "exact_match", threads=1, progress=False)
            assert result.score == 1.0, result.score

        with self.lb.context(cache=False):
            run()
            return [seconds / rows * 1e6 for seconds in best_s(run, 5)]


class DspyJobs(_SignatureJobs):
    def __init__(self) -> None:
        import dspy

        self.dspy = self.lib = dspy
        dspy.configure(adapter=dspy.ChatAdapter())

    def _dummy(self, field_values: list[dict[str, str]]) -> Any:
        from dspy.utils.dummies import DummyLM

        return DummyLM(field_values * 8)

    def predict(self) -> list[float]:
        qa = self.dspy.Predict("question -> answer")
        qa.set_lm(self._dummy([{"answer": str(4 + i)} for i in range(4096)]))
        return best_us(lambda: qa(question="What is 2+2?"), 500)

    def cached(self) -> list[float]:
        lm = self._dummy([{"answer": str(4 + i)} for i in range(4096)])
        lm._cache_responses = True  # DummyLM turns its cache off; a real LM caches by default
        qa = self.dspy.Predict("question -> answer")
        qa.set_lm(lm)
        return best_us(lambda: qa(question="What is 2+2?"), 500)

    def cot(self) -> list[float]:
        cot = self.dspy.ChainOfThought("question -> answer")
        values = [
            {"reasoning": f"2 and 2 make {4 + i}.", "answer": str(4 + i)} for i in range(4096)
        ]
        cot.set_lm(self._dummy(values))
        return best_us(lambda: cot(question="What is 2+2?"), 500)

    def _http(self, base_url: str) -> Any:
        engine = os.environ.get("BENCH_DSPY_ENGINE", "auto")
        lm = self.dspy.LM(
            "openai/gpt-4o-mini", api_base=base_url, api_key=KEY, cache=False, engine=engine
        )
        qa = self.dspy.Predict("question -> answer")
        qa.set_lm(lm)
        return qa

    def http(self, base_url: str) -> list[float]:
        qa = self._http(base_url)
        return best_us(lambda: qa(question="What is 2+2?"), 100)

    def http_async(self, base_url: str) -> list[float]:
        qa = self._http(base_url)
        return abest_us(lambda: qa.acall(question="What is 2+2?"), 100)

    def http_gather(self, base_url: str) -> float:
        qa = self._http(base_url)
        return agather_ms(lambda: qa.acall(question="What is 2+2?"), 100, runs=10)

    def memory(self, base_url: str) -> list[float]:
        qa = self._http(base_url)
        return memory_kb(lambda: qa(question="What is 2+2?"))

    def _examples(self, rows: int) -> list[Any]:
        return [self.dspy.Example(**r).with_inputs("question") for r in question_rows(rows)]

    def batch(self, base_url: str, threads: int, rows: int) -> list[float]:
        qa = self._http(base_url)
        data = self._examples(rows)

        def run() -> None:
            result = qa.batch(data, num_threads=threads, disable_progress_bar=True)
            assert result[0].answer == "answer-1"

        return best_s(run, 3)

    def evaluate(self, base_url: str, threads: int, rows: int) -> list[float]:
        qa = self._http(base_url)
        data = self._examples(rows)

        def metric(example: Any, prediction: Any, trace: Any = None) -> bool:
            return example.answer == prediction.answer

        evaluate = self.dspy.Evaluate(devset=data, metric=metric, num_threads=threads)

        def run() -> None:
            result = evaluate(qa)
            assert abs(result.score - 80.0) < 1e-9, result.score

        return best_s(run, 3)

    def evaluate_scripted(self, rows: int) -> list[float]:
        data = self._examples(rows)
        values = [{"answer": f"answer-{r}"} for r in range(1, rows + 1)]
        qa = self.dspy.Predict("question -> answer")

        def metric(example: Any, prediction: Any, trace: Any = None) -> bool:
            return example.answer == prediction.answer

        evaluate = self.dspy.Evaluate(devset=data, metric=metric, num_threads=1)

        def run() -> None:
            qa.set_lm(self._dummy(values))
            result = evaluate(qa)
            assert result.score == 100.0, result.score

        run()
        return [seconds / rows * 1e6 for seconds in best_s(run, 5)]


JOBS: dict[str, type] = {"lmbench": LmbenchJobs, "dspy": DspyJobs}

# What a fresh interpreter runs for the start-up figures ("{url}": the loopback server).
STARTUP: dict[str, dict[str, str]] = {
    "lmbench": {
        "import": "import lmbench",
        "first_call": (
            "import lmbench\n"
            f"lm = lmbench.ScriptedLM([{ANSWER.format(n=4)!r}])\n"
            "qa = lmbench.Predict('question -> answer', lm=lm)\n"
            "assert qa(question='What is 2+2?').answer == '4'"
        ),
        "first_http": (
            "import lmbench\n"
            f"lm = lmbench.resolve_lm('openai/gpt-4o-mini', api_key={KEY!r}, base_url='{{url}}')\n"
            "qa = lmbench.Predict('question -> answer', lm=lm)\n"
            "assert qa(question='What is 2+2?').answer == '4'"
        ),
    },
    "dspy": {
        "import": "import dspy",
        "first_call": (
            "import dspy\n"
            "from dspy.utils.dummies import DummyLM\n"
            "qa = dspy.Predict('question -> answer')\n"
            "qa.set_lm(DummyLM([{'answer': '4'}]))\n"
            "assert qa(question='What is 2+2?').answer == '4'"
        ),
        "first_http": (
            "import dspy\n"
            f"lm = dspy.LM('openai/gpt-4o-mini', api_key={KEY!r}, api_base='{{url}}')\n"
            "qa = dspy.Predict('question -> answer')\n"
            "qa.set_lm(lm)\n"
            "assert qa(question='What is 2+2?').answer == '4'"
        ),
    },
}


def run_job(library: str, job: str, args: list[Any]) -> Any:
    """One job of one library, in this (fresh) interpreter."""
    return getattr(JOBS[library](), job)(*args)
