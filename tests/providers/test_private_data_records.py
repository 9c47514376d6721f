"""Opt-in redaction of private data on a real call: out of history files (JSONL, SQLite), raw
captures and logs, while the model, the cache and the in-memory history keep the real text."""

from __future__ import annotations

import json

from provider_faults import FaultServer, chat_body, respond

import lmbench
from lmbench.logs import get_logger

from .conftest import Records

EMAIL, PHONE, ACCOUNT = "jane.doe@example.org", "+1 (555) 123-4567", "ACCT-123456"
PRIVATE = (EMAIL, PHONE, ACCOUNT)
ON = ["email", "phone", r"ACCT-\d{6}"]


def test_private_data_stays_out_of_what_is_written(
    server: FaultServer, every_record: Records
) -> None:
    memory, history, tmp_path, caplog = every_record
    lm = lmbench.resolve_lm("openai/gpt-4o-mini", api_key="sk-x", base_url=server.url)
    qa = lmbench.Predict("question -> answer", lm=lm, adapter="chat")
    answer = f"[[ ## answer ## ]]\nWrite to {EMAIL} or call {PHONE}\n\n[[ ## completed ## ]]"
    server.default = respond(200, chat_body(answer))
    question = f"I am {EMAIL}, {PHONE}, account {ACCOUNT}: who do I write to?"
    with lmbench.context(history=history, save_raw=True, cache=True, redact=ON):
        first = qa(question=question)
        again = qa(question=question)  # from the cache: the real answer
        get_logger("lmbench.adapters").warning("odd answer from %s", EMAIL)
        dumped = [json.dumps(e.to_dict()) for e in memory.entries()]
        raw = memory.entries()[0].to_dict()["raw"]
    history.close()
    written = [p.read_bytes().decode("latin-1") for p in tmp_path.glob("h.*")]
    written += dumped
    written += [r.getMessage() for r in caplog.records]
    assert first.answer == again.answer == f"Write to {EMAIL} or call {PHONE}"
    assert EMAIL in json.dumps(server.received[0].body)  # the model got the real prompt
    assert memory.entries()[0].messages[-1].text.count(EMAIL) == 1  # objects keep it
    leaks = [(value, text[:80]) for value in PRIVATE for text in written if value in text]
    assert leaks == []
    assert "[email]" in json.dumps(raw["request"]["body"])
    assert "[phone]" in json.dumps(raw["response"]["body"])
    assert any("odd answer from [email]" in r.getMessage() for r in caplog.records)
