"""Observability on the hot path: cache hits, recording entries, history frames.

Targets: a ``Predict`` call served from the memory cache, end to end, < 50 us; a disk cache
hit < 500 us; recording one entry with the memory collector < 20 us; ``history.frame()``
over 100,000 entries < 1 s. Also shows the seam's own overhead (module call + LM call) and an
uncached ``Predict`` call whose scripted answer changes every call (so no parse is reused).
Run: ``.venv/bin/python benchmarks/bench_observe.py``
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from lmbench.adapters.parse_memo import KEPT
from lmbench.calls import lm_call, module_call
from lmbench.lm import LMRequest, Message, ScriptedLM
from lmbench.lm.cache import reset_cache
from lmbench.modules import Predict
from lmbench.observe import CallHistory, MemoryCollector
from lmbench.settings import configure

ANSWER = "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"
REQUEST = LMRequest(
    messages=(
        Message("system", "Your input fields are: question. Your output fields are: answer."),
        Message("user", "[[ ## question ## ]]\nWhat is 2+2?\n\nRespond with [[ ## answer ## ]]."),
    ),
    temperature=0.0,
)


def per_call_us(fn: Callable[[], object], n: int, repeats: int = 5) -> float:
    """Best-of-``repeats`` mean time of ``fn`` in microseconds (noise only adds time)."""
    fn()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        runs.append((time.perf_counter() - start) / n * 1e6)
    return min(runs)


def trivial_parse(text: str) -> str:
    return text.split("[[ ## answer ## ]]", 1)[1].split("[[ ## completed ## ]]", 1)[0].strip()


def seam_call(lm: ScriptedLM, cache: bool | None) -> str:
    with (
        module_call("Predict", signature="question -> answer"),
        lm_call(lm, REQUEST, adapter="ChatAdapter", cache=cache) as call,
    ):
        answer = trivial_parse(call.run().text)
        call.set_parse(adapter="ChatAdapter", diagnostics=[])
    return answer


def report(name: str, value: float, target: float | None, unit: str = "us") -> None:
    verdict = (
        "" if target is None else ("  ok" if value < target else f"  OVER target {target:g} {unit}")
    )
    print(f"{name:<56} {value:10.1f} {unit}{verdict}")


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="lmbench-bench-"))
    configure(history=MemoryCollector(maxlen=10_000))
    lm = ScriptedLM([ANSWER], repeat=True)
    cached_lm = ScriptedLM([ANSWER], repeat=True)
    cached_lm.cacheable = True

    reset_cache(folder / "two-levels")
    bare = per_call_us(lambda: trivial_parse(lm.generate(REQUEST).text), 20_000)
    uncached = per_call_us(lambda: seam_call(lm, None), 20_000)
    memory_hit = per_call_us(lambda: seam_call(cached_lm, None), 20_000)
    reset_cache(folder / "disk-only", memory_size=0)
    disk_hit = per_call_us(lambda: seam_call(cached_lm, None), 2_000)

    with module_call("Predict") as node, lm_call(lm, REQUEST) as call:
        call.run()
    collector = MemoryCollector(maxlen=1000)

    def record() -> None:
        collector.add(call._make_entry(None))

    recording = per_call_us(record, 50_000)

    print(f"lmbench observability benchmarks ({node!r} recorded {len(node.entries)} LM call)")
    report("scripted LM + parse, no seam (baseline)", bare, None)
    report("seam overhead: module + LM call, cache off", uncached - bare, None)
    report("seam with a memory cache hit (+ trivial parse)", memory_hit, None)
    report("seam with a disk cache hit (+ trivial parse)", disk_hit, 500)
    report("recording one entry (memory collector)", recording, 20)

    reset_cache(folder / "predict")
    fresh_answers = ScriptedLM(
        [ANSWER.replace("4", str(4 + i)) for i in range(4 * KEPT)], repeat=True
    )
    plain = Predict("question -> answer", lm=fresh_answers)
    cached = Predict("question -> answer", lm=cached_lm)
    report(
        "Predict call, cache off, a new answer each call",
        per_call_us(lambda: plain(question="What is 2+2?"), 5_000),
        60,
    )
    report(
        "Predict call served from the memory cache (end to end)",
        per_call_us(lambda: cached(question="What is 2+2?"), 5_000),
        50,
    )

    big = MemoryCollector(maxlen=100_000)
    configure(history=big)
    for i in range(100_000):
        with lm_call(lm, REQUEST.replace(seed=i)) as one:
            one.run()
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        frame = CallHistory(big).frame()
        timings.append(time.perf_counter() - start)
    report(
        f"history.frame() over {len(frame):,} entries",
        statistics.median(timings) * 1000,
        1000,
        "ms",
    )


if __name__ == "__main__":
    main()
