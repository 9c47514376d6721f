"""A ``Citations`` output field is filled from the provider's citation blocks (Anthropic,
over a loopback exchange), and never asked of the model in the prompt."""

from __future__ import annotations

from provider_faults import anthropic_cited_body, cited_text_block, respond, running_server

from lmbench.lm.registry import resolve_lm
from lmbench.lm.scripted import ScriptedLM
from lmbench.media import Citations, Document
from lmbench.modules import ChainOfThought, Predict

ANSWER = "[[ ## answer ## ]]\nGreen.\n\n[[ ## completed ## ]]"


def test_citations_field_comes_from_the_citation_blocks() -> None:
    notes = Document.from_text("The sky is green.", title="notes", citations=True)
    with running_server() as server:
        server.script(respond(200, anthropic_cited_body(cited_text_block(ANSWER), output_tokens=8)))
        lm = resolve_lm("anthropic/claude-haiku-4-5", base_url=server.url, api_key="key-12345678")
        qa = Predict("notes: Document, question -> answer, citations: Citations", lm=lm)
        prediction = qa(notes=notes, question="What colour is the sky?")
        sent = server.received[0].body
    assert prediction.answer == "Green."
    assert isinstance(prediction.citations, Citations)
    assert [c.cited_text for c in prediction.citations] == ["The sky is green."]
    assert "citations" not in sent["system"]  # the model is not asked to write the field
    assert sent["messages"][0]["content"][1]["citations"] == {"enabled": True}


def test_no_citations_from_a_provider_without_them() -> None:
    lm = ScriptedLM(["[[ ## reasoning ## ]]\nLook.\n\n" + ANSWER])
    prediction = ChainOfThought("question -> answer, sources: Citations", lm=lm)(question="Sky?")
    assert prediction.answer == "Green." and len(prediction.sources) == 0
    assert "sources" not in lm.last_prompt
