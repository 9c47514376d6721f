"""Sandbox runs on the real Deno + Pyodide: output, values, errors, state, tools, rendering."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from lmbench.errors import ConfigError, SandboxError
from lmbench.sandbox import Sandbox, SandboxResult, SandboxToolCall
from lmbench.tools import Tool


def test_a_run_gives_stdout_stderr_and_the_last_expression(sandbox: Sandbox) -> None:
    result = sandbox.run("import sys\nprint('hello')\nprint('oops', file=sys.stderr)\n6 * 7")
    assert result == SandboxResult(
        stdout="hello\n", stderr="oops\n", value=42, duration=result.duration
    )
    assert result.ok
    assert sandbox.run("{'a': [1, 2.5, None, True], 'b': 'é'}").value == {
        "a": [1, 2.5, None, True],
        "b": "é",
    }
    assert sandbox.run("x = 1").value is None
    four = sandbox.run("16 ** 0.5").value
    assert four == 4.0 and isinstance(four, float)  # Python's JSON reaches the host as written


def test_a_value_that_is_not_json_comes_back_as_its_repr(sandbox: Sandbox) -> None:
    assert sandbox.run("{1, 2}").value == "{1, 2}"
    assert sandbox.run("float('nan')").value == "nan"
    assert sandbox.run("class A:\n    def __repr__(self): return 'an A'\nA()").value == "an A"


def test_errors_are_the_user_code_traceback_and_not_raised(sandbox: Sandbox) -> None:
    result = sandbox.run("def f(x):\n    return 1 / x\n\nf(0)")
    assert result.value is None
    assert result.error is not None
    assert result.error.startswith("Traceback (most recent call last):")
    assert "return 1 / x" in result.error  # the source lines are shown
    assert result.error.rstrip().endswith("ZeroDivisionError: division by zero")
    assert "_lmbench_runner" not in result.error and "_pyodide" not in result.error
    syntax = sandbox.run("def (:")
    assert syntax.error is not None and "SyntaxError" in syntax.error
    exited = sandbox.run("import sys; sys.exit(3)")
    assert exited.error is not None and "SystemExit: 3" in exited.error
    assert sandbox.run("'still here'").value == "still here"


def test_variables_persist_between_runs_until_reset(sandbox: Sandbox) -> None:
    sandbox.run(
        "counter = 41\ndef bump():\n    global counter\n    counter += 1\n    return counter"
    )
    assert sandbox.run("bump()").value == 42
    assert sandbox.run("counter").value == 42
    sandbox.reset()
    after = sandbox.run("counter")
    assert after.error is not None and "NameError" in after.error
    assert sandbox.run("import math; math.sqrt(16)").value == 4.0  # the stdlib is there


def test_tools_are_called_in_the_host_with_validated_arguments(sandbox: Sandbox) -> None:
    seen: list[tuple[int, int]] = []

    def add(a: int, b: int = 1) -> int:
        """Add two numbers."""
        seen.append((a, b))
        return a + b

    result = sandbox.run("r = add(2, b='3')\nprint(add.__doc__)\nr + add(a=10)", tools=[add])
    assert result.value == 16
    assert result.stdout == "Add two numbers.\n"
    assert seen == [(2, 3), (10, 1)]  # "3" was coerced to 3 on the host, like any Tool call
    assert result.tool_calls == (
        SandboxToolCall("add", {"a": 2, "b": "3"}, 5),
        SandboxToolCall("add", {"a": 10}, 11),
    )


def test_a_tool_error_is_raised_in_the_code_as_tool_error(sandbox: Sandbox) -> None:
    def lookup(city: str) -> str:
        """Look a city up."""
        raise KeyError(city)

    code = (
        "try:\n    lookup(city='Atlantis')\nexcept ToolError as exc:\n    caught = str(exc)\ncaught"
    )
    result = sandbox.run(code, tools=[lookup])
    assert result.error is None
    assert "tool 'lookup' raised KeyError" in result.value
    assert result.tool_calls[0].error is not None
    bad = sandbox.run("lookup(1, 2)", tools=[lookup])
    assert bad.error is not None and "lookup() takes 1 arguments, 2 were given" in bad.error
    wrong_type = sandbox.run("lookup(city=['a'])", tools=[lookup])
    assert wrong_type.error is not None
    assert "ToolError: tool 'lookup' was called with bad arguments" in wrong_type.error


class City(BaseModel):
    name: str
    population: int


def test_tool_results_travel_as_json(sandbox: Sandbox) -> None:
    def city(name: str) -> City:
        """A city record."""
        return City(name=name, population=2_100_000)

    result = sandbox.run("c = city('Paris'); (c['name'], c['population'] // 1000)", tools=[city])
    assert result.value == ["Paris", 2100]


def test_sandbox_tools_given_at_creation_are_there_in_every_run() -> None:
    with Sandbox(tools=[Tool(lambda text: text.upper(), name="shout")]) as box:
        assert box.run("shout(text='hi')").value == "HI"
        assert box.run("shout('again')").value == "AGAIN"


def test_bad_settings_and_tool_names_are_refused_with_the_fix() -> None:
    with pytest.raises(ConfigError, match=r"timeout=0"):
        Sandbox(timeout=0)
    with pytest.raises(ConfigError, match=r"memory_mb=8.*at least 64"):
        Sandbox(memory_mb=8)
    with pytest.raises(ConfigError, match=r"max_output=0"):
        Sandbox(max_output=0)
    with pytest.raises(ConfigError, match=r"'web-search'.*Python identifier"):
        Sandbox(tools=[Tool(lambda q: q, name="web-search")])


def test_code_must_be_text_and_a_closed_sandbox_says_so(fresh_sandbox: Sandbox) -> None:
    with pytest.raises(ConfigError, match=r"takes the code as a str, got bytes"):
        fresh_sandbox.run(b"1")  # type: ignore[arg-type]
    fresh_sandbox.close()
    with pytest.raises(SandboxError, match="closed"):
        fresh_sandbox.run("1")
    assert "closed" in repr(fresh_sandbox)


def test_results_render_in_notebooks(sandbox: Sandbox) -> None:
    def double(x: int) -> int:
        """Double."""
        return 2 * x

    html = sandbox.run("print('<b>hi</b>')\ndouble(4)", tools=[double])._repr_html_()
    assert html is not None
    assert "&lt;b&gt;hi&lt;/b&gt;" in html and "<b>hi</b>" not in html
    assert "double" in html and "8" in html
    failed = sandbox.run("1/0")._repr_html_()
    assert failed is not None and "ZeroDivisionError" in failed
    assert "Sandbox(" in repr(sandbox) and "pid" in repr(sandbox)
    shown = sandbox._repr_html_()
    assert shown is not None and f"pid {sandbox.pid}" in shown and "memory_mb" in shown


def test_a_run_may_call_tools_only_so_many_times(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lmbench.sandbox import sandbox as sandbox_module

    monkeypatch.setattr(sandbox_module, "MAX_TOOL_CALLS", 3)

    def ping() -> str:
        """Ping."""
        return "pong"

    result = sandbox.run("for i in range(10):\n    ping()", tools=[ping])
    assert result.error is not None
    assert "ToolError: the code called tools more than 3 times in one run" in result.error
    assert [call.error is None for call in result.tool_calls] == [True, True, True, False]


def test_output_still_buffered_belongs_to_its_run(sandbox: Sandbox) -> None:
    assert sandbox.run("print('no newline', end='')").stdout == "no newline"
    raw = sandbox.run("import sys; sys.stdout.buffer.write(b'\\xff raw\\n')")
    assert raw.stdout == "\ufffd raw\n"  # bytes that are not UTF-8 are replaced, not lost
    assert sandbox.run("print('next')").stdout == "next\n"


def test_text_that_utf8_cannot_hold_comes_back_replaced(sandbox: Sandbox) -> None:
    assert sandbox.run("'\\ud800x'").value == "\ufffdx"
    assert sandbox.run("{'k': ['\\udfff']}").value == {"k": ["\ufffd"]}


def test_a_tool_cannot_use_the_sandbox_that_called_it(sandbox: Sandbox) -> None:
    def nested(code: str) -> str:
        """Run code in the same sandbox."""
        return str(sandbox.run(code).value)

    result = sandbox.run("nested('1 + 1')", tools=[nested])
    assert result.error is not None
    assert "a tool used the sandbox that was running the code calling it" in result.error
    assert not result.restarted and sandbox.run("2 + 2").value == 4


@pytest.mark.skipif(not hasattr(__import__("os"), "fork"), reason="needs os.fork")
def test_a_forked_process_can_start_sandboxes_of_its_own(sandbox: Sandbox) -> None:
    import multiprocessing

    def child(queue: multiprocessing.Queue) -> None:
        with Sandbox() as box:
            queue.put(box.run("6 * 7").value)

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    worker = context.Process(target=child, args=(queue,))
    worker.start()
    try:
        assert queue.get(timeout=60) == 42
    finally:
        worker.join(10)
        if worker.is_alive():
            worker.kill()


def test_a_tool_result_that_is_not_json_is_a_tool_error(sandbox: Sandbox) -> None:
    def loop() -> list:
        """A list that holds itself."""
        items: list = []
        items.append(items)
        return items

    result = sandbox.run("loop()", tools=[loop])
    assert result.error is not None and not result.restarted
    assert "ToolError: tool 'loop' returned a value that cannot be sent as JSON" in result.error


def test_on_tool_hears_each_call_before_and_after_it_runs(sandbox: Sandbox) -> None:
    heard: list[tuple[str, bool, object]] = []

    def half(x: int) -> float:
        """Half."""
        heard.append(("ran", True, x))
        return x / 2

    def listen(call: SandboxToolCall, done: bool) -> None:
        heard.append((call.name, done, call.result if done else call.arguments))

    assert sandbox.run("half(3)", tools=[half], on_tool=listen).value == 1.5
    assert heard == [("half", False, {"x": 3}), ("ran", True, 3), ("half", True, 1.5)]
