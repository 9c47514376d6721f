"""Per-call time of adapter formatting and parsing (the adapter's share of Predict's overhead).

Prints microseconds per ``format`` + ``parse`` for a one-field and a four-field typed
signature, for well-formed answers and for answers that need repairs.
Run: ``.venv/bin/python benchmarks/bench_adapters.py``
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from lmbench.adapters import ChatAdapter, JSONAdapter, XMLAdapter
from lmbench.signatures import InputField, OutputField, Signature


class Review(Signature):
    """Rate the review."""

    review: str = InputField()
    sentiment: Literal["positive", "negative", "neutral"] = OutputField()
    score: int = OutputField(ge=0, le=10)
    confidence: float = OutputField()
    summary: str = OutputField()


QA = Signature("question -> answer")
QA_ANSWER = "[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]"
REVIEW_INPUTS = {"review": "Great battery, poor screen."}
REVIEW_CHAT = (
    "[[ ## sentiment ## ]]\npositive\n\n[[ ## score ## ]]\n7\n\n[[ ## confidence ## ]]\n0.8\n\n"
    "[[ ## summary ## ]]\nGood battery, weak screen.\n\n[[ ## completed ## ]]"
)
REVIEW_CHAT_MESSY = (
    "Sure!\n[[## Sentiment ##]]\n**Positive**\n[[ ## score ## ]]\nHigh (7/10)\n"
    "[[ ## confidence ## ]]\nabout 0.8\n[[ ## summary ## ]]\nGood battery, weak screen."
)
REVIEW_JSON = '{"sentiment": "positive", "score": 7, "confidence": 0.8, "summary": "Good battery."}'
REVIEW_XML = (
    "<sentiment>positive</sentiment>\n<score>7</score>\n<confidence>0.8</confidence>\n"
    "<summary>Good battery.</summary>"
)


def per_call_us(work: Callable[[], object], calls: int = 20000) -> float:
    for _ in range(500):  # warm-up: per-signature caches
        work()
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main() -> None:
    chat, json_adapter, xml = ChatAdapter(), JSONAdapter(), XMLAdapter()
    cases = [
        ("Chat  question -> answer", chat, QA, {"question": "What is 2+2?"}, QA_ANSWER),
        ("Chat  4 typed outputs", chat, Review, REVIEW_INPUTS, REVIEW_CHAT),
        ("Chat  4 typed outputs, messy", chat, Review, REVIEW_INPUTS, REVIEW_CHAT_MESSY),
        ("JSON  4 typed outputs", json_adapter, Review, REVIEW_INPUTS, REVIEW_JSON),
        ("XML   4 typed outputs", xml, Review, REVIEW_INPUTS, REVIEW_XML),
    ]
    for label, adapter, signature, inputs, answer in cases:
        fmt = per_call_us(lambda a=adapter, s=signature, i=inputs: a.format(s, i))
        parse = per_call_us(lambda a=adapter, s=signature, t=answer: a.parse(s, t))
        print(
            f"{label:32s} format {fmt:6.1f} us   parse {parse:6.1f} us   total {fmt + parse:6.1f} us"
        )


if __name__ == "__main__":
    main()
