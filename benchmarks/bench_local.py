"""Tokens per second of the embedded local model through lmbench vs llama-cpp-python directly.

Both sides run the same prompt with the same settings on the same loaded model (greedy, the
same stop sequences, the whole prompt evaluated afresh each call, as ``LocalLM`` does), taking
turns so that a busy machine slows both alike. Prints the load time, then median tokens/s
of each side and their ratio (target: lmbench >= 95% of direct), for plain text, streamed
text and JSON-schema output.
Run: ``.venv/bin/python benchmarks/bench_local.py [rounds]``
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from lmbench.lm.types import LMRequest, Message
from lmbench.providers.local import STRUCTURED_REPEAT_PENALTY, LocalLM, local_model_unavailable
from lmbench.providers.local_prompt import TURN_STOP, format_prompt
from lmbench.providers.local_runtime import grammar_for

MAX_TOKENS = 96
MESSAGES = (
    Message("system", "You are a storyteller."),
    Message("user", "Tell a long story about a dragon who learns to bake bread."),
)
SCHEMA = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "characters": {"type": "array", "items": {"type": "string"}},
        "pages": {"type": "integer"},
        "genre": {"type": "string", "enum": ["fantasy", "comedy", "drama"]},
    },
    "required": ["title", "characters", "pages", "genre"],
}

Run = Callable[[], int]  # one generation; returns the number of tokens generated


def lmbench_runs(lm: LocalLM) -> dict[str, Run]:
    text = LMRequest(messages=MESSAGES, max_tokens=MAX_TOKENS)
    structured = text.replace(response_schema=SCHEMA)

    def generate(request: LMRequest) -> int:
        return lm.generate(request).usage.output_tokens

    def stream() -> int:
        chunks = list(lm.stream(text))
        response = chunks[-1].response
        assert response is not None
        return response.usage.output_tokens

    return {
        "text": lambda: generate(text),
        "stream": stream,
        "json": lambda: generate(structured),
    }


def direct_runs(llama: Any) -> dict[str, Run]:
    prompt = format_prompt(MESSAGES)
    text_options = {"max_tokens": MAX_TOKENS, "temperature": 0.0, "stop": [TURN_STOP]}
    json_options = {
        "max_tokens": MAX_TOKENS,
        "temperature": 0.0,
        "grammar": grammar_for(SCHEMA),
        "repeat_penalty": STRUCTURED_REPEAT_PENALTY,
    }

    def generate(options: dict[str, Any]) -> int:
        llama.reset()
        return int(llama.create_completion(prompt, **options)["usage"]["completion_tokens"])

    def stream() -> int:
        llama.reset()
        chunks: Iterator[Any] = llama.create_completion(prompt, stream=True, **text_options)
        for _ in chunks:
            pass
        return int(llama.last_completion_tokens)

    return {
        "text": lambda: generate(text_options),
        "stream": stream,
        "json": lambda: generate(json_options),
    }


def tokens_per_s(run: Run) -> float:
    started = time.perf_counter()
    tokens = run()
    return tokens / (time.perf_counter() - started)


def main(rounds: int) -> None:
    missing = local_model_unavailable()
    if missing:
        print(f"skipped: {missing}")
        return
    started = time.perf_counter()
    lm = LocalLM()
    loaded = lm.load()
    print(f"load: {time.perf_counter() - started:.2f} s in all, {loaded.load_s:.2f} s in llama.cpp")
    ours, theirs = lmbench_runs(lm), direct_runs(loaded.llama)
    print(f"{MAX_TOKENS} tokens max per call, {rounds} rounds, medians:")
    for kind in ours:
        ours[kind](), theirs[kind]()  # warm-up
        mine, direct = [], []
        for _ in range(rounds):
            mine.append(tokens_per_s(ours[kind]))
            direct.append(tokens_per_s(theirs[kind]))
        a, b = statistics.median(mine), statistics.median(direct)
        print(f"  {kind:<6}  lmbench {a:6.1f} tok/s   direct {b:6.1f} tok/s   ratio {a / b:6.1%}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
