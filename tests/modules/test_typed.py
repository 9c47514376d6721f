from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field

import lmbench
from lmbench.errors import InputError, SignatureError
from lmbench.lm import ScriptedLM


class Ticket(BaseModel):
    text: str


class Triage(BaseModel):
    """Route the support ticket to a team."""

    team: Literal["billing", "tech", "sales"]
    urgent: bool
    priority: int = Field(ge=1, le=5, description="1 is highest")


JSON_ANSWER = '{"team": "Billing", "urgent": "yes", "priority": 2}'


def test_typed_program_returns_output_model_instances() -> None:
    lm = ScriptedLM([JSON_ANSWER], repeat=True)
    triage = lmbench.typed(Ticket, Triage, lm=lm, adapter="json")
    result = triage(Ticket(text="I was charged twice"))
    assert result == Triage(team="billing", urgent=True, priority=2)
    assert triage(text="again").team == "billing"
    assert triage({"text": "and again"}).priority == 2
    assert triage.last_prediction.adapter == "JSONAdapter"
    assert "Route the support ticket to a team." in lm.last_prompt
    assert "1 is highest" in lm.last_prompt


async def test_typed_program_can_be_awaited() -> None:
    lm = ScriptedLM([JSON_ANSWER], repeat=True)
    triage = lmbench.typed(Ticket, Triage, lm=lm, adapter="json")
    assert await triage.acall(Ticket(text="charged twice")) == Triage(
        team="billing", urgent=True, priority=2
    )
    assert (await triage.acall(text="again")).urgent is True
    assert triage.last_prediction.inputs == {"text": "again"}
    with pytest.raises(InputError, match="not both"):
        await triage.acall(Ticket(text="a"), text="b")


def test_typed_with_reasoning_uses_chain_of_thought() -> None:
    lm = ScriptedLM(
        ['{"reasoning": "money issue", "team": "billing", "urgent": false, "priority": 3}']
    )
    triage = lmbench.typed(Ticket, Triage, reasoning=True, lm=lm, adapter="json")
    assert triage(text="refund please").urgent is False
    assert triage.last_prediction.reasoning == "money issue"


def test_typed_input_errors() -> None:
    triage = lmbench.typed(Ticket, Triage, lm=ScriptedLM([]))
    with pytest.raises(InputError, match="expected a Ticket instance, got int"):
        triage(3)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="not both"):
        triage(Ticket(text="x"), text="y")


def test_models_sharing_field_names_are_refused() -> None:
    class Out(BaseModel):
        text: str

    with pytest.raises(SignatureError, match=r"share field names \['text'\]"):
        lmbench.typed(Ticket, Out)
