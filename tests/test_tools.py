"""Tool: schema from type hints and docstrings, validated calls, clear errors, callbacks."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import pytest
from pydantic import BaseModel, Field

from lmbench.calls.callbacks import Callback, CallbackEvent
from lmbench.errors import ConfigError, ToolError
from lmbench.lm.types import ToolSpec
from lmbench.settings import context
from lmbench.tools import Tool


def search(query: str, k: int = 3, mode: Literal["fast", "deep"] = "fast") -> list[str]:
    """Search the encyclopedia for passages.

    Looks in every volume.

    Args:
        query: what to look for,
            in plain words
        k (int): how many passages to return
        mode: how hard to look

    Returns:
        the passages found
    """
    return [f"{query}#{i}:{mode}" for i in range(k)]


class Point(BaseModel):
    x: int
    y: int


def test_name_description_and_schema_come_from_the_function() -> None:
    tool = Tool(search)
    assert tool.name == "search"
    assert tool.description == "Search the encyclopedia for passages.\n\nLooks in every volume."
    assert tool.parameters == {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "query": {"type": "string", "description": "what to look for, in plain words"},
            "k": {"type": "integer", "default": 3, "description": "how many passages to return"},
            "mode": {
                "type": "string",
                "enum": ["fast", "deep"],
                "default": "fast",
                "description": "how hard to look",
            },
        },
        "required": ["query"],
    }
    assert (
        repr(tool) == "Tool(search(query: str, k: int = 3, mode: Literal['fast', 'deep'] = 'fast'))"
    )


def test_to_spec_carries_name_description_and_schema() -> None:
    tool = Tool(search)
    assert tool.to_spec() == ToolSpec("search", tool.description, tool.parameters)


def test_explicit_name_description_and_argument_descriptions_win() -> None:
    def add(a: Annotated[int, Field(description="first term")], b: int) -> int:
        return a + b

    tool = Tool(add, name="plus", description="Adds.", arg_descriptions={"b": "second term"})
    assert (tool.name, tool.description) == ("plus", "Adds.")
    assert tool.parameters["properties"]["a"]["description"] == "first term"
    assert tool.parameters["properties"]["b"]["description"] == "second term"


def test_a_function_without_docstring_gets_a_plain_description() -> None:
    def ping() -> str:
        return "pong"

    assert Tool(ping).description == "Calls ping."
    assert Tool(ping)() == "pong"


def test_calls_validate_and_coerce_arguments() -> None:
    tool = Tool(search)
    assert tool(query="tower", k="2") == ["tower#0:fast", "tower#1:fast"]

    def norm(p: Point) -> int:
        return p.x * p.x + p.y * p.y

    assert Tool(norm)(p={"x": "3", "y": 4}) == 25


def test_used_as_a_decorator() -> None:
    @Tool
    def double(x: int) -> int:
        """Doubles a number."""
        return 2 * x

    assert isinstance(double, Tool)
    assert double(x=21) == 42


def test_a_wrongly_typed_argument_names_tool_argument_value_and_type() -> None:
    with pytest.raises(ToolError) as info:
        Tool(search)(query="tower", k="many")
    error = info.value
    assert (error.tool, error.argument, error.value) == ("search", "k", "many")
    message = str(error)
    assert "tool 'search'" in message
    assert "argument 'k' expects int, got 'many' (str)" in message
    assert "Call it as search(query: str, k: int = 3" in message


def test_missing_and_unexpected_arguments_are_named() -> None:
    with pytest.raises(ToolError, match=r"missing argument 'query' \(str\)") as info:
        Tool(search)(k=1)
    assert info.value.argument == "query"
    with pytest.raises(ToolError, match="unexpected argument 'limit'") as info:
        Tool(search)(query="x", limit=5)
    assert (info.value.argument, info.value.value) == ("limit", 5)


def test_a_nested_bad_value_shows_its_path() -> None:
    def norm(p: Point) -> int:
        return p.x

    with pytest.raises(ToolError, match=r"argument \"p\['y'\]\" expects Point, got 'far'"):
        Tool(norm)(p={"x": 1, "y": "far"})


def test_an_exception_in_the_function_becomes_a_tool_error_with_its_cause() -> None:
    def divide(a: float, b: float) -> float:
        return a / b

    with pytest.raises(ToolError, match="tool 'divide' raised ZeroDivisionError") as info:
        Tool(divide)(a=1, b=0)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    assert info.value.tool == "divide"


def test_positional_only_and_extra_keyword_arguments() -> None:
    def tag(text: str, /, **attributes: Any) -> str:
        return text + "".join(f" {k}={v}" for k, v in sorted(attributes.items()))

    tool = Tool(tag)
    assert tool.parameters["additionalProperties"] is True
    assert tool(text="a", z=1, b="c") == "a b=c z=1"


def test_unusable_functions_are_refused_at_construction() -> None:
    def many(*values: int) -> int:
        return sum(values)

    with pytest.raises(ConfigError, match=r"takes \*values"):
        Tool(many)
    with pytest.raises(ConfigError, match="tool name 'two words'"):
        Tool(search, name="two words")
    with pytest.raises(ConfigError, match="Tool needs a function"):
        Tool(42)  # type: ignore[arg-type]

    def broken(x: NoSuchType) -> None:  # type: ignore[name-defined]  # noqa: F821
        return None

    with pytest.raises(ConfigError, match="could not read the type hints of tool 'broken'"):
        Tool(broken)


async def _slow_double(x: int) -> int:
    await asyncio.sleep(0)
    return 2 * x


def test_an_async_tool_called_without_a_running_loop() -> None:
    assert Tool(_slow_double)(x=4) == 8


async def test_an_async_tool_inside_a_running_loop() -> None:
    tool = Tool(_slow_double)
    assert await tool.acall(x=5) == 10
    assert tool(x=6) == 12  # as in a notebook cell: runs on a worker thread's loop


class _Recorder(Callback):
    def __init__(self) -> None:
        self.events: list[CallbackEvent] = []

    def on_tool_start(self, event: CallbackEvent) -> None:
        self.events.append(event)

    def on_tool_end(self, event: CallbackEvent) -> None:
        self.events.append(event)


def test_callbacks_see_tool_start_and_end() -> None:
    recorder = _Recorder()
    with context(callbacks=(recorder,)):
        Tool(search)(query="q", k=1)
        with pytest.raises(ToolError):
            Tool(search)(query="q", k="x")
    names = [(e.name, e.tool) for e in recorder.events]
    assert names == [
        ("tool_start", "search"),
        ("tool_end", "search"),
        ("tool_start", "search"),
        ("tool_end", "search"),
    ]
    assert recorder.events[0].arguments == {"query": "q", "k": 1}
    assert recorder.events[1].result == ["q#0:fast"]
    assert recorder.events[1].error is None
    assert isinstance(recorder.events[3].error, ToolError)


def test_a_number_argument_given_as_true_or_false_is_refused() -> None:
    """Pydantic's lax mode reads true as 1; a model that sends a boolean for a number has not
    given the number."""

    def scale(k: int, factor: float | None = None, exact: bool = False) -> int:
        """Scale."""
        return k

    tool = Tool(scale)
    assert tool.validate({"k": "2", "factor": 1}) == {"k": 2, "factor": 1.0, "exact": False}
    for bad in ({"k": True}, {"k": 1, "factor": False}):
        with pytest.raises(ToolError, match="got the boolean"):
            tool.validate(bad)
    assert tool.validate({"k": 1, "exact": True})["exact"] is True
