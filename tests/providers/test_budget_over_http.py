"""Budgets over real HTTP: ``Parallel(16)`` against a loopback OpenAI-compatible server that
takes 50 ms a request. Each call reserves its most before it is sent, so the server sees only
the requests the limit allows, however many threads are waiting."""

from __future__ import annotations

import pytest
from provider_faults import FaultServer, chat_body, respond, slow

from lmbench.calls import budget
from lmbench.errors import BudgetExceeded
from lmbench.lm.registry import resolve_lm
from lmbench.modules import Parallel, Predict
from lmbench.observe import estimate_usage, price_of

ANSWER = "[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"
MAX_TOKENS = 300


def test_sixteen_threads_over_http_send_only_what_the_budget_allows(server: FaultServer) -> None:
    # The server bills more prompt tokens than estimated, and all of max_tokens.
    server.default = slow(
        0.05,
        respond(
            200,
            chat_body(ANSWER, model="gpt-4o-mini", prompt_tokens=400, completion_tokens=MAX_TOKENS),
        ),
    )
    lm = resolve_lm(
        "openai/gpt-4o-mini", base_url=f"{server.url}/v1", api_key="sk-test-0123456789abcdef"
    )
    qa = Predict("question -> answer", lm=lm, config={"max_tokens": MAX_TOKENS, "cache": False})
    first = qa(question="question 00")
    estimated = price_of(lm, estimate_usage(first.lm_calls[0].request)).usd
    real = first.cost
    assert estimated is not None and real is not None and real > estimated
    sent_before = server.count
    limit = 4 * estimated
    items = [(qa, {"question": f"question {i:02d}"}) for i in range(1, 41)]
    with budget(usd=limit) as spent, pytest.raises(BudgetExceeded, match="the call was not made"):
        Parallel(num_threads=16)(items)
    assert server.count - sent_before == 4  # not 16: the other threads were refused
    assert spent.spent_usd <= limit * (real / estimated) + 1e-12
    assert spent.reserved_usd == pytest.approx(0.0, abs=1e-12)
