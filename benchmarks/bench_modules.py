"""Overhead of tools and composite modules, and the speed-up Parallel gives on a slow LM.

Prints: microseconds per validated tool call; per ReAct LM call, and ReAct's overhead per
step (each LM call of a run: the time outside the LM and the tool, i.e. prompt, parsing,
history, the loop; target under 100 us; what the loop adds to the same predictor calls made
directly; and a lone Predict call as a yardstick), all in CPU time, and per BestOfN attempt with the scripted LM (cache
off, so this is the library's own work); and the wall time of 32 calls to an LM that takes
50 ms per answer, one after another and on Parallel(8).
Target: Parallel(8) at least 6x faster than sequential on that LM.
Run: ``.venv/bin/python benchmarks/bench_modules.py``
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import lmbench
from lmbench.lm.base import BaseLM
from lmbench.lm.types import LMRequest, LMResponse
from lmbench.modules.react import format_trajectory

ANSWER = "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"


def best_time_us(run: Callable[[], object], calls: int, rounds: int = 3) -> float:
    """Best per-call time over a few rounds, after a warm-up."""
    for _ in range(min(calls, 100)):
        run()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            run()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def add(a: int, b: int = 1) -> int:
    """Adds two numbers."""
    return a + b


def react_script(steps: int) -> list[str]:
    """``steps - 1`` tool calls (each with other arguments, so none is a repeat), finish, and
    the extraction's answer."""

    def step(thought: str, tool: str, args: dict[str, int]) -> str:
        return "\n\n".join(
            [
                f"[[ ## next_thought ## ]]\n{thought}",
                f"[[ ## next_tool_name ## ]]\n{tool}",
                f"[[ ## next_tool_args ## ]]\n{json.dumps(args)}",
                "[[ ## completed ## ]]",
            ]
        )

    calls = [step("Add them.", "add", {"a": 2, "b": n}) for n in range(steps - 1)]
    extract = "[[ ## reasoning ## ]]\n2 + 2 = 4.\n\n[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"
    return [*calls, step("Done.", "finish", {}), extract]


# The ReAct figures count CPU time of this thread (``time.thread_time``), so that other
# processes on a shared machine do not inflate them.
cpu_clock = time.thread_time


class TimedLM(lmbench.ScriptedLM):
    """The scripted LM, keeping the time spent inside it."""

    spent = 0.0

    def generate(self, request: LMRequest) -> LMResponse:
        start = cpu_clock()
        try:
            return super().generate(request)
        finally:
            self.spent += cpu_clock() - start


class TimedTool(lmbench.Tool):
    """A tool keeping the time spent validating its arguments and running it."""

    spent = 0.0

    def __call__(self, **arguments: object) -> object:
        start = cpu_clock()
        try:
            return super().__call__(**arguments)
        finally:
            self.spent += cpu_clock() - start


def react_step_us(steps: int = 4, runs: int = 200, rounds: int = 9) -> tuple[float, float, float]:
    """A ReAct run of ``steps`` steps and the extraction with the scripted LM, in CPU time
    per LM call: the whole; outside the LM and the tool (prompts, parsing, history, the
    loop); and of that, what the loop adds to the same predictor calls made directly."""
    lm = TimedLM(react_script(steps), repeat=True)
    agent = lmbench.ReAct("question -> answer: int", tools=[add], max_iters=steps, lm=lm)
    tool = agent.tools["add"] = TimedTool(add)
    calls = steps + 1
    trajectory = agent(question="2 + 2?").trajectory
    shown = [format_trajectory(trajectory[:i]) for i in range(calls)]

    def direct() -> None:  # the same predictor calls, answered by the same script
        for i in range(steps):
            agent.react(question="2 + 2?", trajectory=shown[i])
        agent.extract(question="2 + 2?", trajectory=shown[steps])

    def cpu_us(work: Callable[[], object]) -> tuple[float, float]:
        """One round's CPU time per LM call: in all, and outside the LM and the tool."""
        lm.spent = tool.spent = 0.0
        start = cpu_clock()
        for _ in range(runs):
            work()
        spent = cpu_clock() - start
        return spent / runs / calls * 1e6, (spent - lm.spent - tool.spent) / runs / calls * 1e6

    def run() -> None:
        agent(question="2 + 2?")

    for _ in range(50):
        run()
        direct()
    # Rounds of the two alternate, so a change in the machine's load hits both alike.
    of_run, of_direct = [], []
    for _ in range(rounds):
        of_run.append(cpu_us(run))
        of_direct.append(cpu_us(direct))
    overhead = min(r[1] for r in of_run)
    return min(r[0] for r in of_run), overhead, overhead - min(r[1] for r in of_direct)


def predict_cpu_us(calls: int = 2000, rounds: int = 5) -> float:
    """A lone Predict call's CPU time outside the scripted LM: the yardstick for a ReAct step
    (which is one Predict call with a bigger prompt, plus the loop)."""
    lm = TimedLM([ANSWER], repeat=True)
    qa = lmbench.Predict("question -> answer", lm=lm)
    for _ in range(200):
        qa(question="2 + 2?")
    best = float("inf")
    for _ in range(rounds):
        lm.spent = 0.0
        start = cpu_clock()
        for _ in range(calls):
            qa(question="2 + 2?")
        best = min(best, cpu_clock() - start - lm.spent)
    return best / calls * 1e6


def best_of_n_attempt_us() -> float:
    lm = lmbench.ScriptedLM([ANSWER], repeat=True)
    best = lmbench.BestOfN(
        lmbench.Predict("question -> answer", lm=lm), n=4, reward_fn=lambda i, p: 0.0, threshold=1
    )
    return best_time_us(lambda: best(question="2 + 2?"), calls=500) / 4


class SlowLM(BaseLM):
    """Answers after a fixed delay, like a remote model (and unlike ScriptedLM, concurrently)."""

    provider = "bench"
    model = "slow"
    cacheable = False

    def __init__(self, delay_s: float) -> None:
        self.delay_s = delay_s

    def generate(self, request: LMRequest) -> LMResponse:
        time.sleep(self.delay_s)
        return LMResponse(texts=[ANSWER], model=self.model, provider=self.provider)


def parallel_speedup(
    items: int = 32, threads: int = 8, delay_s: float = 0.05
) -> tuple[float, float]:
    qa = lmbench.Predict("question -> answer", lm=SlowLM(delay_s))
    inputs = [{"question": f"q{i}"} for i in range(items)]
    start = time.perf_counter()
    for item in inputs:
        qa(**item)
    sequential = time.perf_counter() - start
    start = time.perf_counter()
    results = lmbench.Parallel(threads)([(qa, item) for item in inputs])
    concurrent = time.perf_counter() - start
    assert not results.errors, results.errors
    return sequential, concurrent


def main() -> None:
    tool = lmbench.Tool(add)
    print(f"Tool call (validate + call): {best_time_us(lambda: tool(a=2, b='3'), 20000):.1f} us")
    with lmbench.context(cache=False):
        per_call, overhead, loop = react_step_us()
        print(f"ReAct per LM call (4 steps + extraction): {per_call:.1f} us")
        print(
            f"ReAct step overhead (excluding the LM and the tool): {overhead:.1f} us "
            f"(target < 100 us), of which the loop itself {loop:.1f} us; "
            f"a lone Predict call: {predict_cpu_us():.1f} us"
        )
        print(f"BestOfN per attempt (n=4, Predict): {best_of_n_attempt_us():.1f} us")
        sequential, concurrent = parallel_speedup()
    print(
        f"32 calls of 50 ms: sequential {sequential * 1000:.0f} ms, Parallel(8) "
        f"{concurrent * 1000:.0f} ms, speed-up {sequential / concurrent:.1f}x (target >= 6x)"
    )


if __name__ == "__main__":
    main()
