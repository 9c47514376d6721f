"""A module call's keywords: inputs named like call options, and bytes inputs."""

from __future__ import annotations

import pytest

from lmbench.errors import InputError
from lmbench.lm.scripted import ScriptedLM
from lmbench.modules import ChainOfThought, MultiChainComparison, Predict, ReAct
from lmbench.modules.inputs import CALL_OPTIONS

ANSWER = "[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"
REASONED = "[[ ## reasoning ## ]]\nr\n\n[[ ## answer ## ]]\nok\n\n[[ ## completed ## ]]"


@pytest.mark.parametrize("name", sorted(CALL_OPTIONS))
def test_an_input_named_like_a_call_option_is_passable(name: str) -> None:
    lm = ScriptedLM([ANSWER], repeat=True)
    program = Predict(f"{name}, question -> answer", lm=lm, adapter="chat")
    assert program(**{name: "VALUE-1", "question": "q"}).answer == "ok"
    assert f"[[ ## {name} ## ]]\nVALUE-1" in lm.last_prompt
    assert program({name: "VALUE-2", "question": "q"}).answer == "ok"
    assert "VALUE-2" in lm.last_prompt


@pytest.mark.parametrize("name", sorted(CALL_OPTIONS))
def test_an_input_missing_among_clashing_names_is_reported(name: str) -> None:
    program = Predict(f"{name}, question -> answer", lm=ScriptedLM([ANSWER]))
    with pytest.raises(InputError, match=f"missing input.*'{name}'"):
        program(question="q")


def test_the_shadowed_option_stays_reachable() -> None:
    lm = ScriptedLM([ANSWER], repeat=True)
    program = Predict("n, question -> answer", lm=lm, adapter="chat")
    assert len(program(n=7, question="q", config={"n": 2}).completions) == 2
    assert len(program({"n": 7, "question": "q"}, n=3).completions) == 3
    assert "[[ ## n ## ]]\n7" in lm.last_prompt


def test_with_a_mapping_every_keyword_is_an_option() -> None:
    lm = ScriptedLM([ANSWER], repeat=True)
    program = Predict("config, lm -> answer", adapter="chat")
    result = program({"config": "C", "lm": "L"}, lm=lm, config={"temperature": 0})
    assert result.answer == "ok" and "[[ ## lm ## ]]\nL" in lm.last_prompt


def test_an_input_given_twice_is_an_error() -> None:
    program = Predict("question -> answer", lm=ScriptedLM([ANSWER]))
    with pytest.raises(InputError, match="twice"):
        program({"question": "a"}, question="b")
    with pytest.raises(InputError, match="one mapping"):
        program("a question")  # type: ignore[arg-type]


async def test_async_and_streaming_calls_take_clashing_inputs_too() -> None:
    lm = ScriptedLM([ANSWER], repeat=True)
    program = Predict("demos -> answer", lm=lm, adapter="chat")
    assert (await program.acall(demos="D")).answer == "ok"
    events = list(program.stream(demos="D"))
    assert events[-1].answer == "ok"
    assert "[[ ## demos ## ]]\nD" in program.render(demos="D")


def test_modules_built_on_predict_pass_clashing_inputs_through() -> None:
    cot = ChainOfThought("n -> answer", lm=ScriptedLM([REASONED], repeat=True), adapter="chat")
    assert cot(n=5).answer == "ok"
    mcc = MultiChainComparison(
        "n -> answer", M=2, lm=ScriptedLM([REASONED], repeat=True), adapter="chat"
    )
    assert mcc(n=5).answer == "ok"
    step = (
        "[[ ## next_thought ## ]]\ndone\n[[ ## next_tool_name ## ]]\nfinish\n"
        "[[ ## next_tool_args ## ]]\n{}\n[[ ## completed ## ]]"
    )
    lm = ScriptedLM([step, REASONED])

    def lookup(q: str) -> str:
        """Look something up."""
        return q

    react = ReAct("lm -> answer", tools=[lookup], lm=lm, adapter="chat")
    assert react(lm="the input").answer == "ok"
    assert "[[ ## lm ## ]]\nthe input" in lm.last_prompt


# -- bytes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signature", "value", "where"),
    [
        ("data: bytes -> answer", b"\xff\xfe\x00abc", "data: byte 0xff at position 0"),
        ("data -> answer", b"caf\xe9", "data: byte 0xe9 at position 3"),
        ("data: list[bytes] -> answer", [b"ok", b"\xc3("], "data[1]: byte 0xc3"),
        ("data: dict[str, bytes] -> answer", {"k": b"\x80"}, "data['k']: byte 0x80"),
    ],
)
def test_bytes_that_are_not_utf8_are_refused_naming_the_field(
    signature: str, value: object, where: str
) -> None:
    lm = ScriptedLM([ANSWER])
    with pytest.raises(InputError) as info:
        Predict(signature, lm=lm)(data=value)
    message = str(info.value)
    assert "input 'data'" in message and where in message and "decode" in message


def test_utf8_bytes_are_shown_as_text() -> None:
    lm = ScriptedLM([ANSWER])
    Predict("data: bytes -> answer", lm=lm, adapter="chat")(data="héllo".encode())
    assert "[[ ## data ## ]]\nhéllo" in lm.last_prompt
