"""Attacks on the sandbox's boundaries that need more than its permissions to stop: state left
for a later call, the host's tool callback, values built to break the host, the harness
patched from inside, and output built for a terminal or a notebook. Each test is an attack
that would work again if its fix went away."""

from __future__ import annotations

import pytest

from lmbench.notebook.render import html_for
from lmbench.sandbox import Sandbox
from lmbench.sandbox.pool import SandboxPool
from lmbench.sandbox.sandbox import MAX_DEPTH, MAX_TOOL_CALLS

# Everything one call could leave in its interpreter for the next, including a runner that
# forges every later result.
LEFT_BEHIND = """
import builtins, json, os, sys, js, _lmbench_runner
secret = "an input of the earlier call"
builtins.len = lambda value: 42
json.loads = lambda *args, **kwargs: "poisoned"
sys.modules["math"] = None
os.environ["LEFT"] = "behind"
open("/tmp/left", "w").write(secret)
js.globalThis.left = "behind"
js.eval("Object.prototype.polluted = 'behind'; setTimeout(() => console.log('late'), 0)")
_lmbench_runner.run = lambda code, tools, limit: '{"value": "forged"}'
"""

CHECK = """
import json, linecache, math, os, sys, js
[
    len([1, 2]),
    json.loads("[1]"),
    os.environ.get("LEFT"),
    os.path.exists("/tmp/left"),
    "secret" in globals(),
    str(js.eval("typeof globalThis.left + ' ' + typeof ({}).polluted")),
    sorted(name for name in linecache.cache if name.startswith("<run")),
]
"""
CLEAN = [2, [1], None, False, False, "undefined undefined", ["<run 1>"]]


def test_reset_leaves_nothing_of_earlier_runs(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.run(LEFT_BEHIND)
    assert fresh_sandbox.run("1 + 1").value == "forged"  # until reset, the code owns it
    fresh_sandbox.reset()
    result = fresh_sandbox.run(CHECK)
    assert result.value == CLEAN, result
    assert "late" not in result.stdout
    assert fresh_sandbox.restarts == 0  # a reset is not a restart


def test_a_reset_before_any_code_keeps_the_worker(fresh_sandbox: Sandbox) -> None:
    fresh_sandbox.start()
    pid = fresh_sandbox.pid
    fresh_sandbox.reset()
    assert fresh_sandbox.pid == pid
    fresh_sandbox.run("x = 1")
    fresh_sandbox.reset()
    assert fresh_sandbox.pid != pid


def test_a_pooled_sandbox_comes_back_clean_for_the_next_call(sandbox: Sandbox) -> None:
    pool = SandboxPool(timeout=5, memory_mb=128)
    try:
        with pool.lease() as box:
            box.run(LEFT_BEHIND)
        with pool.lease() as again:
            assert again is box
            assert again.run(CHECK).value == CLEAN
    finally:
        pool.close()


def test_a_tool_cannot_reset_the_sandbox_running_it(fresh_sandbox: Sandbox) -> None:
    def wipe() -> str:
        """Reset the sandbox."""
        fresh_sandbox.reset()
        return "wiped"

    result = fresh_sandbox.run("kept = 1\nwipe()", tools=[wipe])
    assert "ToolError" in (result.error or "") and "Sandbox of its own" in (result.error or "")
    assert fresh_sandbox.run("kept").value == 1


# -- the host's tool callback ------------------------------------------------------------------


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@pytest.mark.parametrize(
    ("name", "args", "expected"),
    [
        ("add", '{"self": 1, "a": 1, "b": 2}', "self"),  # once a TypeError that broke the run
        ("add", '{"a": ' + "[" * 950 + "]" * 950 + ', "b": 1}', f"deeper than {MAX_DEPTH}"),
        ("add", '{"a": ' + "[" * 150 + "]" * 150 + ', "b": 1}', f"deeper than {MAX_DEPTH}"),
        ("add", "[1, 2", "not JSON"),
        ("add", "[1, 2]", "needs its arguments as keywords"),
        ("add", '{"a": NaN, "b": 1}', "finite number"),
        ("__class__", "{}", "no tool named '__class__'"),
        ("__init__", '{"func": "print"}', "no tool named '__init__'"),
        ("x" * 300_000, "{}", "at most 200 characters"),  # once a line that killed the worker
    ],
)
def test_crafted_tool_calls_are_refused_inside_the_run(
    sandbox: Sandbox, name: str, args: str, expected: str
) -> None:
    code = f"import _lmbench_host\n_lmbench_host.call_tool({name!r}, {args!r})"
    result = sandbox.run(code, tools=[add])
    assert result.error is None and not result.restarted, result
    assert expected in str(result.value), result.value
    assert sandbox.run("add(2, 3)", tools=[add]).value == 5


def test_a_loop_of_tool_calls_is_cut_off_and_not_kept(sandbox: Sandbox) -> None:
    result = sandbox.run(
        f"for i in range({MAX_TOOL_CALLS + 500}):\n"
        "    try:\n        add(i, 1)\n    except ToolError as exc:\n        last = str(exc)\nlast",
        tools=[add],
    )
    assert f"more than {MAX_TOOL_CALLS} times" in str(result.value)
    assert len(result.tool_calls) == MAX_TOOL_CALLS + 1  # the refused ones after it: not kept
    assert result.tool_calls[-1].error is not None


# -- values built to break the host ------------------------------------------------------------


def test_a_deeply_nested_value_comes_back_as_text(sandbox: Sandbox) -> None:
    result = sandbox.run("v = []\nfor _ in range(990):\n    v = [v]\nv")
    assert result.error is None and result.value == "[" * 991 + "]" * 991  # its JSON, as text
    assert sandbox.run("v = []\nfor _ in range(50):\n    v = [v]\nv").value is not None


def test_the_host_refuses_a_forged_deep_value(fresh_sandbox: Sandbox) -> None:
    """The runner inside is the code's to patch: the host checks what it receives itself."""
    fresh_sandbox.run(
        "import _lmbench_runner\n"
        "_lmbench_runner.run = lambda code, tools, limit: "
        "'{\"value\": ' + '[' * 3000 + ']' * 3000 + '}'"
    )
    result = fresh_sandbox.run("1")
    assert result.error is not None and f"deeper than {MAX_DEPTH} levels" in result.error
    assert result.value is None and not result.restarted


def test_a_long_traceback_says_it_was_cut(sandbox: Sandbox) -> None:
    result = sandbox.run("raise ValueError('x' * 100_000)")
    assert result.error is not None and result.error.startswith("[... ")
    assert "characters cut]" in result.error and len(result.error) < 2100


# -- output built for a terminal or a notebook -------------------------------------------------

HOSTILE = (
    "print('\\x1b[2J\\x1b]0;owned\\x07<script>alert(1)</script>\\r\\u202e')\n"
    "raise RuntimeError('\\x1b[31m<img src=x onerror=alert(1)>')"
)


def test_terminal_codes_and_markup_from_the_code_are_shown_not_obeyed(sandbox: Sandbox) -> None:
    from IPython.lib.pretty import pretty

    result = sandbox.run(HOSTILE)
    assert "\x1b" in result.stdout  # the data itself is kept as the code wrote it
    text = pretty(result)
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "\u202e" not in text and "\\x1b" in text
    html = html_for(result) or ""
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html
