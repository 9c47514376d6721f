"""Tokens per second of the embedded local model through lmbench vs llama-cpp-python directly.

Both sides load the same GGUF file with the same options and run the same prompt with the
same settings (greedy, the same stop sequences, the whole prompt evaluated afresh each call,
as ``LocalLM`` does), taking turns so that a busy machine slows both alike. The direct side
is a plain ``llama_cpp.Llama``. Both produce the same tokens (checked), so tokens/s compare
like for like. Prints load time, then median tokens/s of each side and their ratio (target:
lmbench >= 95% of direct) for text, streamed text and JSON-schema output (where lmbench's
grammar-last greedy sampling is expected to be faster than llama-cpp-python's).
Run: ``.venv/bin/python benchmarks/bench_local.py [rounds]``
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

from lmbench.lm.types import LMRequest, Message
from lmbench.providers.local import STRUCTURED_REPEAT_PENALTY, LocalLM, local_model_unavailable
from lmbench.providers.local_prompt import TURN_STOP, format_prompt
from lmbench.providers.local_runtime import LoadedModel, grammar_for

MAX_TOKENS = 96
MESSAGES = (
    Message("system", "You are a storyteller."),
    Message(
        "user", "Once upon a time, a dragon learned to bake bread. Continue the story in detail."
    ),
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

Run = Callable[[], str]  # one generation; returns its text


def lmbench_runs(lm: LocalLM) -> dict[str, Run]:
    text = LMRequest(messages=MESSAGES, max_tokens=MAX_TOKENS)
    structured = text.replace(response_schema=SCHEMA)

    def stream() -> str:
        return "".join(chunk.text for chunk in lm.stream(text))

    return {
        "text": lambda: lm.generate(text).text,
        "stream": stream,
        "json": lambda: lm.generate(structured).text,
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

    def generate(options: dict[str, Any]) -> str:
        llama.reset()
        return str(llama.create_completion(prompt, **options)["choices"][0]["text"])

    def stream() -> str:
        llama.reset()
        chunks = llama.create_completion(prompt, stream=True, **text_options)
        return "".join(chunk["choices"][0]["text"] for chunk in chunks)

    return {
        "text": lambda: generate(text_options),
        "stream": stream,
        "json": lambda: generate(json_options),
    }


def plain_llama(loaded: LoadedModel) -> Any:
    import llama_cpp

    own = loaded.llama
    return llama_cpp.Llama(
        model_path=str(loaded.path),
        n_ctx=own.n_ctx(),
        n_threads=own.n_threads,
        n_threads_batch=own.n_threads_batch,
        verbose=False,
    )


def elapsed(run: Run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def main(rounds: int) -> None:
    missing = local_model_unavailable()
    if missing:
        print(f"skipped: {missing}")
        return
    started = time.perf_counter()
    lm = LocalLM()
    loaded = lm.load()
    print(
        f"load: {time.perf_counter() - started:.2f} s from LocalLM() to a loaded model "
        f"({loaded.load_s:.2f} s in llama.cpp), {loaded.llama.n_threads} threads"
    )
    ours, theirs = lmbench_runs(lm), direct_runs(plain_llama(loaded))
    print(f"{MAX_TOKENS} tokens max per call, {rounds} rounds, medians:")
    for kind in ours:
        text = ours[kind]()  # also the warm-up
        tokens = loaded.llama.last_completion_tokens
        direct_text = theirs[kind]()
        if direct_text.removeprefix(" ") != text:
            print(f"  {kind}: the two sides generated different text; figures not comparable")
            continue
        mine, direct = [], []
        for _ in range(rounds):
            mine.append(tokens / elapsed(ours[kind]))
            direct.append(tokens / elapsed(theirs[kind]))
        a, b = statistics.median(mine), statistics.median(direct)
        print(
            f"  {kind:<6} {tokens:3d} tokens  lmbench {a:5.1f} tok/s  direct {b:5.1f} tok/s  "
            f"ratio {a / b:6.1%}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
