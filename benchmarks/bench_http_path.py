"""What a ``Predict`` call adds over posting the same body with bare httpx, on real HTTP.

The whole path is measured: prompt, request body, headers, the retry loop, response
parsing, pricing (``genai-prices``, model ``gpt-4o-mini``), budgets, the history entry and
the call tree, with default settings and the cache off. The server is a keep-alive HTTP/1.1
server on loopback with ``TCP_NODELAY``, in its own process (sharing ours would make both
wait on the GIL); it answers every request at once with the same chat completion.

Each figure is the best of several runs (the least disturbed by other load on the machine),
bare httpx and Predict timed in alternation. Targets: at most 100 us added (sync) and 150 us
(async).
Run: ``.venv/bin/python benchmarks/bench_http_path.py``
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable

from loopback_server import http_response, serve, start_server

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
KEY = "sk-bench-0123456789abcdefghijklmnop"
RUNS = 7


Figures = dict[str, tuple[float, float]]  # name -> best (wall, CPU) microseconds a call


class _Best:
    """Best wall-clock and CPU time per call of each timed function."""

    def __init__(self, names: list[str]) -> None:
        self.figures: Figures = dict.fromkeys(names, (float("inf"), float("inf")))

    def keep(self, name: str, wall: float, cpu: float, calls: int) -> None:
        old_wall, old_cpu = self.figures[name]
        self.figures[name] = (min(old_wall, wall / calls * 1e6), min(old_cpu, cpu / calls * 1e6))


def best_of(pair: dict[str, Callable[[], object]], calls: int) -> Figures:
    """Best per-call microseconds of each function, timed in alternating runs."""
    for _ in range(300):
        for call in pair.values():
            call()
    best = _Best(list(pair))
    for _ in range(RUNS):
        for name, call in pair.items():
            wall, cpu = time.perf_counter(), time.thread_time()
            for _ in range(calls):
                call()
            best.keep(name, time.perf_counter() - wall, time.thread_time() - cpu, calls)
    return best.figures


async def abest_of(pair: dict[str, Callable[[], Awaitable[object]]], calls: int) -> Figures:
    """The async twin of ``best_of``."""
    for _ in range(300):
        for call in pair.values():
            await call()
    best = _Best(list(pair))
    for _ in range(RUNS):
        for name, call in pair.items():
            wall, cpu = time.perf_counter(), time.thread_time()
            for _ in range(calls):
                await call()
            best.keep(name, time.perf_counter() - wall, time.thread_time() - cpu, calls)
    return best.figures


def report(label: str, figures: Figures, target: float) -> None:
    """Wall-clock figures (the target), then this process's CPU time a call, which other
    load on the machine disturbs far less."""
    (bare, bare_cpu), (predict, predict_cpu) = figures["bare"], figures["predict"]
    added = predict - bare
    verdict = "ok" if added <= target else "OVER"
    print(
        f"{label:<6} bare httpx {bare:7.1f} us   Predict {predict:7.1f} us   added {added:6.1f} us"
        f" (target <= {target:.0f} us: {verdict})\n       CPU a call: bare {bare_cpu:6.1f} us, "
        f"Predict {predict_cpu:6.1f} us, added {predict_cpu - bare_cpu:6.1f} us"
    )


def captured_body(base_url: str) -> tuple[bytes, dict[str, str]]:
    """The exact body and headers Predict sends, caught once on a separate client."""
    import httpx

    import lmbench

    seen: list[httpx.Request] = []
    client = httpx.Client(event_hooks={"request": [seen.append]})
    lm = lmbench.resolve_lm(
        "openai/gpt-4o-mini", api_key=KEY, base_url=base_url, http_client=client
    )
    lmbench.Predict("question -> answer", lm=lm)(question="What is 2+2?")
    request = seen[-1]
    request.read()
    headers = {
        k: v for k, v in request.headers.items() if k in ("authorization", "content-type", "accept")
    }
    client.close()
    return request.content, headers


def main() -> None:
    import httpx

    import lmbench

    child, port = start_server(__file__)
    try:
        base_url = f"http://127.0.0.1:{port}/v1"
        url = f"{base_url}/chat/completions"
        lmbench.configure(cache=False)
        body, headers = captured_body(base_url)
        lm = lmbench.resolve_lm("openai/gpt-4o-mini", api_key=KEY, base_url=base_url)
        qa = lmbench.Predict("question -> answer", lm=lm)
        assert qa(question="What is 2+2?").answer == "4"
        assert lmbench.history.last()[0].cost_usd, "the call was not priced"
        client = httpx.Client()
        sync = best_of(
            {
                "bare": lambda: client.post(url, content=body, headers=headers).json(),
                "predict": lambda: qa(question="What is 2+2?"),
            },
            calls=500,
        )
        report("sync", sync, 100)

        async def run_async() -> Figures:
            aclient = httpx.AsyncClient()

            async def bare() -> object:
                return (await aclient.post(url, content=body, headers=headers)).json()

            async def predict() -> object:
                return await qa.acall(question="What is 2+2?")

            figures = await abest_of({"bare": bare, "predict": predict}, calls=300)
            await aclient.aclose()
            await lm.aclose()
            return figures

        report("async", asyncio.run(run_async()), 150)
        client.close()
        lm.close()
    finally:
        child.kill()
        child.wait()


if __name__ == "__main__":
    serve(RESPONSE) if sys.argv[1:] == ["--serve"] else main()
