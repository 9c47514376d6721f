"""Per-request overhead of the OpenAI-compatible provider over a bare httpx request.

Both send the same chat completion and read the same answer; the difference is what the
provider adds (body building, headers, retry bookkeeping, parsing, response assembly).
Target: < 300 us per request. Three settings: in memory (``httpx.MockTransport``: the
provider's own CPU cost, free of network noise), and a loopback server in another process,
sync and async (closer to real use, but noisy on a loaded machine).
Run: ``.venv/bin/python benchmarks/bench_providers.py``
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from loopback_server import http_response, serve, start_server

AsyncCall = Callable[[], Awaitable[object]]

ANSWER = json.dumps(
    {
        "id": "chatcmpl-bench",
        "model": "bench-model",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "4"}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 12, "completion_tokens": 1},
    }
).encode()
RESPONSE = http_response(ANSWER)


def paired_us(
    bare: Callable[[], object], provider: Callable[[], object], calls: int, rounds: int = 7
) -> tuple[float, float]:
    """Median per-call time of ``bare`` and of ``provider``, timed in alternating rounds so
    that drift in machine load hits both alike."""
    for _ in range(200):
        bare()
        provider()
    times: dict[Callable[[], object], list[float]] = {bare: [], provider: []}
    for _ in range(rounds):
        for call in (bare, provider):
            start = time.perf_counter()
            for _ in range(calls):
                call()
            times[call].append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times[bare]), statistics.median(times[provider])


async def apaired_us(
    bare: AsyncCall, provider: AsyncCall, calls: int, rounds: int = 7
) -> tuple[float, float]:
    """The async twin of ``paired_us``."""
    for _ in range(100):
        await bare()
        await provider()
    times: dict[AsyncCall, list[float]] = {bare: [], provider: []}
    for _ in range(rounds):
        for call in (bare, provider):
            start = time.perf_counter()
            for _ in range(calls):
                await call()
            times[call].append((time.perf_counter() - start) / calls * 1e6)
    return statistics.median(times[bare]), statistics.median(times[provider])


def report(label: str, bare_us: float, provider_us: float) -> None:
    print(
        f"{label:<34} bare httpx {bare_us:7.1f} us   provider {provider_us:7.1f} us   "
        f"overhead {provider_us - bare_us:6.1f} us (target < 300 us)"
    )


def main() -> None:
    import httpx

    from lmbench.lm.registry import resolve_lm
    from lmbench.lm.types import LMRequest, Message

    request = LMRequest(
        (Message("system", "Answer briefly."), Message("user", "What is 2+2?")), temperature=0.0
    )
    body = json.dumps(
        {
            "model": "bench-model",
            "messages": [m.to_dict() for m in request.messages],
            "stream": False,
            "temperature": 0.0,
        }
    ).encode()
    headers = {"content-type": "application/json", "accept": "application/json"}

    # 1. No network at all (httpx.MockTransport): the provider's own CPU cost, free of noise.
    mock = httpx.MockTransport(
        lambda r: httpx.Response(200, content=ANSWER, headers={"content-type": "application/json"})
    )
    mock_client = httpx.Client(transport=mock)
    mock_lm = resolve_lm(
        "openai-compatible/bench-model",
        base_url="http://127.0.0.1:1/v1",
        http_client=httpx.Client(transport=mock),
    )
    report(
        "generate, in memory (MockTransport)",
        *paired_us(
            lambda: mock_client.post(
                "http://127.0.0.1:1/v1/chat/completions", content=body, headers=headers
            ).json(),
            lambda: mock_lm.generate(request),
            calls=3000,
        ),
    )

    # 2. A real loopback server in another process.
    child, port = start_server(__file__)
    base_url = f"http://127.0.0.1:{port}/v1"
    client = httpx.Client()
    lm = resolve_lm("openai-compatible/bench-model", base_url=base_url)
    report(
        "generate, loopback server",
        *paired_us(
            lambda: client.post(
                f"{base_url}/chat/completions", content=body, headers=headers
            ).json(),
            lambda: lm.generate(request),
            calls=1000,
        ),
    )

    async def async_figures() -> tuple[float, float]:
        async_client = httpx.AsyncClient()

        async def bare_async() -> object:
            response = await async_client.post(
                f"{base_url}/chat/completions", content=body, headers=headers
            )
            return response.json()

        async def provider_async() -> object:
            return await lm.agenerate(request)

        figures = await apaired_us(bare_async, provider_async, calls=500)
        await async_client.aclose()
        await lm.aclose()
        return figures

    report("agenerate, loopback server", *asyncio.run(async_figures()))
    client.close()
    lm.close()
    child.kill()


if __name__ == "__main__":
    serve(RESPONSE) if sys.argv[1:] == ["--serve"] else main()
