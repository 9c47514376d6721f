"""Helpers of the evaluation tests: a scripted model that answers like the loopback model
server (``item N`` -> ``answer-N``, every fifth item ``wrong``), and rows of items."""

from __future__ import annotations

from chat_answers import chat_answer as chat
from model_server import answer_for

from lmbench.lm.types import LMRequest

__all__ = ["WORKER_KEY", "chat", "item_answer", "items"]

#: The key the workers of the ``keyed_cluster`` fixture have in their environment (never the
#: driver's).
WORKER_KEY = "sk-worker-env-0123456789abcdefghij"


def item_answer(request: LMRequest) -> str:
    """What the loopback server would answer, from the last message."""
    return chat(answer=answer_for(request.messages[-1].text))


def items(count: int, start: int = 1) -> list[dict[str, str]]:
    return [
        {"question": f"What is item {i}?", "answer": f"answer-{i}"}
        for i in range(start, start + count)
    ]
